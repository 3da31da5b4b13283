"""IdealPointSampler: an ideal-point model of a person's ratings, learned as a moving cloud of particles.

- ``_model``: the posterior over the ideal, each parameter's weight, the rating curve and noise;
- ``_proposal``: the next output to show (expected rating plus information, a batch spread out);
- ``_sampler``: optuna's sampler interface, reading only what changed in the study.
"""

from hitl.samplers._ideal._sampler import IdealPointSampler


__all__ = ["IdealPointSampler"]
