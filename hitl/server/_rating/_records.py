"""What the rating view stores on a trial, and how it reads a trial back.

- ``hitl:hold`` (trial system attr): the rater holding the trial, ``{"by": client, "until": epoch}``;
  a hold past its ``until`` is nobody's. Kept in the storage, so every process serving the study
  agrees on who has which output.
- ``hitl:rating:<name>`` (trial user attr): one person's rating (a list, one value per
  objective), ``None`` once undone. Kept after the trial is told: who rated what.
- ``hitl:rater`` (trial user attr): the names whose ratings the trial was told with.
- ``hitl:raters_per_output``, ``hitl:batch`` (study system attrs): the run's settings, so the view
  of any study knows them.
"""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from hitl.queue import READY_ATTR


__all__ = [
    "BATCH_ATTR", "HOLD_ATTR", "K_ATTR", "RATER_ATTR", "RATING_PREFIX", "combine", "holder", "media",
    "ratings", "waiting",
]

HOLD_ATTR = "hitl:hold"
RATING_PREFIX = "hitl:rating:"
RATER_ATTR = "hitl:rater"
K_ATTR = "hitl:raters_per_output"
BATCH_ATTR = "hitl:batch"
_ARTIFACT_PREFIX = "artifacts:"  # optuna.artifacts.upload_artifact's trial system attrs


def waiting(storage: BaseStorage, study_id: int) -> list[FrozenTrial]:
    """The study's trials awaiting rating, oldest first."""
    running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
    return sorted((t for t in running if READY_ATTR in t.system_attrs), key=lambda t: t.number)


def holder(trial: FrozenTrial, now: float) -> str | None:
    """The client holding ``trial`` now, or ``None``."""
    hold = trial.system_attrs.get(HOLD_ATTR)
    if not isinstance(hold, dict) or not hold.get("by") or float(hold.get("until", 0)) <= now:
        return None
    return str(hold["by"])


def ratings(trial: FrozenTrial) -> dict[str, list[float]]:
    """The ratings stored on ``trial`` so far, by rater name (undone ones left out)."""
    return {
        key[len(RATING_PREFIX):]: [float(v) for v in value]
        for key, value in trial.user_attrs.items()
        if key.startswith(RATING_PREFIX) and isinstance(value, list)
    }


def combine(by_rater: dict[str, list[float]]) -> list[float]:
    """One value per objective from several people's ratings: their median.

    The median rather than the mean: one careless or contrarian rating among three moves it
    least. For an even number of ratings it is the mean of the middle two.
    """
    columns = zip(*by_rater.values())
    return [float(statistics.median(column)) for column in columns]


def media(trial: FrozenTrial, study_id: int) -> dict[str, str] | None:
    """The trial's output as the view shows it: its URL (the dashboard's artifact route) and type."""
    for key, value in trial.system_attrs.items():
        if not key.startswith(_ARTIFACT_PREFIX):
            continue
        meta = json.loads(value) if isinstance(value, str) else value
        return {
            "url": f"/artifacts/{study_id}/{trial._trial_id}/{meta['artifact_id']}",
            "mimetype": str(meta.get("mimetype") or ""),
            "filename": str(meta.get("filename") or ""),
        }
    return None


def check_values(form: dict[str, Any] | None, values: Any) -> str | None:
    """Why ``values`` is not a rating the study's form allows, or ``None`` if it is."""
    widgets = [w for w in (form or {}).get("widgets", []) if w.get("type") != "user_attr"]
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "values must be a list of numbers"
    if widgets and len(values) != len(widgets):
        return f"{len(values)} value(s) given; the form asks {len(widgets)}"
    for i, (value, widget) in enumerate(zip(values, widgets)):
        if not math.isfinite(value):
            return f"value {i + 1} is not a finite number"
        if widget["type"] == "choice" and float(value) not in [float(v) for v in widget["values"]]:
            return f"value {i + 1}={value:g} is not one of the choices' values {widget['values']}"
        if widget["type"] == "slider" and not widget["min"] <= value <= widget["max"]:
            return f"value {i + 1}={value:g} is outside the slider's {widget['min']:g}..{widget['max']:g}"
    return None
