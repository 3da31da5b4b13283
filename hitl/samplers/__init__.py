"""hitl's samplers, and factories that add a check optuna lacks; plain samplers use optuna's classes directly.

Each sampler of its own is a private subpackage (``_localizer``), re-exported here.
"""

from hitl.samplers._gp import gp
from hitl.samplers._localizer import LocalizationSampler
from hitl.samplers._localizer import OutputModel


__all__ = ["LocalizationSampler", "OutputModel", "gp"]
