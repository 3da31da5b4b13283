"""IdealPointSampler: an ideal-point model of a person's ratings, learned as a moving cloud of particles.

- ``_model``: the posterior over the ideal, each parameter's weight, the rating curve and noise;
- ``_proposal``: the next output to show (expected rating plus information, a batch spread out);
- ``_sampler``: optuna's sampler interface, reading only what changed in the study;
- ``_comparisons``, ``_compare_sampler``: the same person learnt from choices between outputs
  (``mode=preferential``), and its sampler.
"""

from hitl.samplers._ideal._compare_sampler import ComparisonSampler
from hitl.samplers._ideal._sampler import IdealPointSampler


__all__ = ["ComparisonSampler", "IdealPointSampler"]
