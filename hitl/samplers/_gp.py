"""Optuna's GPSampler, checked for its extras when it is built."""

from __future__ import annotations

import importlib.util
from typing import Any

import optuna

from hitl._errors import HitlError


__all__ = ["gp"]


def gp(**kwargs: Any) -> optuna.samplers.GPSampler:
    """Optuna's GPSampler, failing at start (not at the first ask) when its extras are missing."""
    missing = [m for m in ("torch", "scipy") if importlib.util.find_spec(m) is None]
    if missing:
        raise HitlError(
            f"sampler=gp needs {' and '.join(missing)}, not installed here: "
            "pip install -e '.[gp]' in the hitl folder, or pip install torch scipy (or pick sampler=localizer)"
        )
    return optuna.samplers.GPSampler(**kwargs)
