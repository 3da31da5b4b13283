"""The default sampler, chosen for the task: how many parameters, and whether the generator measures differences."""

from __future__ import annotations

import logging
from typing import Any

from optuna.samplers import BaseSampler

from hitl._errors import HitlError
from hitl.samplers._ideal import ComparisonSampler
from hitl.samplers._ideal import IdealPointSampler
from hitl.samplers._localizer import LocalizationSampler
from hitl.samplers._space import recorded_space


__all__ = ["auto"]

_log = logging.getLogger("hitl")
_FEW = 3  # up to this many parameters, the localizer's fixed candidates cover the space densely


def auto(*, output: Any = None, seed: int | None = None, mode: str = "rating", **knobs: Any) -> BaseSampler:
    """hitl's default sampler for the generator ``output``.

    :class:`LocalizationSampler` when the generator measures how different its outputs look
    (it has ``distances``, e.g. CIEDE2000 between colours) and has at most 3 numeric
    parameters: there its fixed candidates cover the space densely and its model measures
    what the person sees (9 ratings to a colour against 14 for the other). Otherwise
    :class:`IdealPointSampler`, which learns how much each parameter matters and keeps its
    resolution in 6 or 12 dimensions (README: sample efficiency on real tasks).

    Args:
        output: The generator (``${generator}`` in the config).
        seed: Seed of the chosen sampler.
        mode: ``preferential`` (people compare outputs, ``${mode.name}``): :class:`ComparisonSampler`,
            the ideal-point person learnt from their choices.
        **knobs: None taken: a knob belongs to one sampler, so tuning one means picking it.
    """
    if knobs:
        names = ", ".join(f"{k}={v}" for k, v in sorted(knobs.items()))
        raise HitlError(f"sampler=auto takes no {names}: pick the sampler the knob belongs to, "
                        "e.g. sampler=ideal or sampler=localizer, then set sampler.<knob>")
    dims = len(recorded_space(output))
    if mode == "preferential":
        _log.info("sampler: ComparisonSampler (%d parameters, learning from comparisons)", dims)
        return ComparisonSampler(output=output, seed=seed)
    if callable(getattr(output, "distances", None)) and 0 < dims <= _FEW:
        _log.info("sampler: LocalizationSampler (%d parameters, the generator measures how different outputs look)", dims)
        return LocalizationSampler(output=output, seed=seed)
    _log.info("sampler: IdealPointSampler (%d parameters)", dims)
    return IdealPointSampler(output=output, seed=seed)
