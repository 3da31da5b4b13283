"""How a run ended and where its results are, and the lines that say so when it stops."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
import logging
import math
from typing import Any

from hitl.server import WidgetSet


__all__ = ["Summary", "best_colour", "log_summary", "rating_label"]

_log = logging.getLogger("hitl")


@dataclass(frozen=True)
class Summary:
    """How a run ended and where its results are.

    ``best_number`` is the lowest-numbered of the best trials, ``best_numbers`` all of them (a
    choice widget often rates several alike); ``best_label`` is the best rating as the person
    chose it (a choice's label), ``best_colour`` the best trial's colour as sRGB hex where the
    generator makes colours.
    """

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
    best_numbers: tuple[int, ...] = ()
    best_label: str | None = None
    best_colour: str | None = None
    compared: bool = False  # a comparison study: ``rated`` counts choices, the best is the most preferred


def rating_label(widgets: WidgetSet) -> Callable[[float], str]:
    """How a rating of the first objective reads: a choice widget's label, else the number."""
    widget = widgets.objectives[0].widget
    pairs = list(zip(getattr(widget, "values", None) or [], getattr(widget, "choices", None) or []))

    def label(value: float) -> str:
        for v, choice in pairs:
            if math.isclose(float(v), value, rel_tol=0, abs_tol=1e-9):
                return str(choice).strip()
        return f"{value:g}"

    return label


def best_colour(generator: Any, params: Mapping[str, Any]) -> str | None:
    """The colour a colour generator shows for ``params``, as ``#rrggbb``; ``None`` for other generators."""
    rgb = getattr(generator, "rgb", None)
    if not callable(rgb):
        return None
    try:
        r, g, b = rgb(params)
    except Exception:  # a generator's own rgb() of another meaning: no colour to show
        return None
    return f"#{int(r):02x}{int(g):02x}{int(b):02x}"


def log_summary(s: Summary) -> None:
    total = {"n_trials": "n_trials reached", "timeout": "timeout reached", "stopped": "stopped"}[s.reason]
    if s.compared:
        _log.info("%s: %d choice(s) in study '%s', %d candidates shown", total, s.rated, s.study_name, s.waiting)
    else:
        _log.info("%s: %d rating(s) in study '%s', %d still waiting", total, s.rated, s.study_name, s.waiting)
    if s.best_number is not None and s.compared:
        _log.info("most preferred: trial %d (%s%s)", s.best_number, _params(s.best_params),
                  f"; sRGB {s.best_colour}" if s.best_colour else "")
    elif s.best_number is not None:
        params = _params(s.best_params)
        colour = f"; sRGB {s.best_colour}" if s.best_colour else ""
        rated = s.best_label if s.best_label is not None else f"{s.best_value:g}"
        tied = [n for n in s.best_numbers if n != s.best_number]
        ties = f"; tied with trial{'s' if len(tied) > 1 else ''} {', '.join(map(str, tied))}" if tied else ""
        _log.info("best: trial %d rated %s (%s%s)%s", s.best_number, rated, params, colour, ties)
    _log.info("database: %s | artifacts: %s", s.storage, s.artifacts)


def _params(params: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (params or {}).items())
