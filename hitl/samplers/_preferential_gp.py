"""optuna-dashboard's PreferentialGPSampler, checked for its extra when built."""

from __future__ import annotations

import importlib.util
from typing import Any

import optuna

from hitl._errors import HitlError


__all__ = ["preferential_gp"]


def preferential_gp(*, seed: int | None = None, **kwargs: Any) -> optuna.samplers.BaseSampler:
    """optuna-dashboard's ``PreferentialGPSampler`` (a GP over comparisons), failing at start when
    torch or botorch is missing rather than at the first ask.

    Args:
        seed: Seed of its random start and acquisition.
        **kwargs: ``PreferentialGPSampler``'s own (``kernel``, ``noise_prior``, ``independent_sampler``).
    """
    missing = [m for m in ("torch", "botorch") if importlib.util.find_spec(m) is None]
    if missing:
        raise HitlError(
            f"sampler=preferential_gp needs {' and '.join(missing)}, not installed here: "
            "pip install -e '.[preferential]' in the hitl folder (or pick sampler=auto)"
        )
    from optuna_dashboard.preferential.samplers.gp import PreferentialGPSampler

    return PreferentialGPSampler(seed=seed, **kwargs)
