"""hitl's samplers, and factories that add a check optuna lacks; plain samplers use optuna's classes directly.

``auto`` (the default) picks one of hitl's own for the task. Each sampler of its own is a
private subpackage, re-exported here: ``_ideal``
(:class:`IdealPointSampler`) and ``_localizer`` (:class:`LocalizationSampler`). The
modules they share: ``_space`` (the search space and the rating scale), ``_history`` (what a
study holds, read incrementally), ``_outputs`` (what the generator shows, and when two outputs
are the same).
"""

from hitl.samplers._auto import auto
from hitl.samplers._gp import gp
from hitl.samplers._gp import UnrepeatingGPSampler
from hitl.samplers._ideal import ComparisonSampler
from hitl.samplers._ideal import IdealPointSampler
from hitl.samplers._localizer import LocalizationSampler
from hitl.samplers._localizer import OutputModel
from hitl.samplers._preferential_gp import preferential_gp


__all__ = ["ComparisonSampler", "IdealPointSampler", "LocalizationSampler", "OutputModel", "UnrepeatingGPSampler", "auto", "gp",
           "preferential_gp"]
