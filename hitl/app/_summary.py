"""How a run ended and where its results are, and the lines that say so when it stops."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any


__all__ = ["Summary", "log_summary"]

_log = logging.getLogger("hitl")


@dataclass(frozen=True)
class Summary:
    """How a run ended and where its results are."""

    study_name: str
    reason: str
    rated: int
    waiting: int
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any] | None
    storage: str
    artifacts: str
    dashboard_url: str | None


def log_summary(s: Summary) -> None:
    total = {"n_trials": "n_trials reached", "timeout": "timeout reached", "stopped": "stopped"}[s.reason]
    _log.info("%s: %d rating(s) in study '%s', %d still waiting", total, s.rated, s.study_name, s.waiting)
    if s.best_number is not None:
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (s.best_params or {}).items())
        _log.info("best: trial %d rated %g (%s)", s.best_number, s.best_value, params)
    _log.info("database: %s | artifacts: %s", s.storage, s.artifacts)
