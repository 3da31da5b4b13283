"""Which finished trials are ratings: a trial told without its output, or with values that are no
rating, is never counted, never the best and never learnt from.

The dashboard hitl serves refuses such tells (``hitl/server/_guard.py``), but a study can be
reached by other paths (the plain ``optuna-dashboard`` command, a script). A trial made by hitl
(it carries a lease) that was told before its ready mark has no output anyone saw; values that
are not finite numbers, one per objective, are no rating a sampler can use. On a database the
trial is recorded as such, failed with the reason in ``hitl:error``; on other storages, which
cannot change a finished trial, it is only read as failed.
"""

from __future__ import annotations

from collections.abc import Sequence
import json
import math

from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import sqlalchemy

from hitl.queue._attrs import ERROR_ATTR


__all__ = ["NOT_RATED_ATTR", "as_not_rated", "not_a_rating", "record_not_rated"]

NOT_RATED_ATTR = "hitl:not_rated"  # on the feed's copy of such a trial: why it is read as failed


def not_a_rating(state: TrialState, values: Sequence[float] | None, n_objectives: int, *,
                 made_by_hitl: bool, ready: bool) -> str | None:
    """Why a trial in ``state`` with ``values`` is not a rating, or ``None`` (it is, or it is not complete)."""
    if state != TrialState.COMPLETE:
        return None
    if made_by_hitl and not ready:
        return "it was rated before its output was stored (nobody saw it)"
    if not values or len(values) != n_objectives:
        return f"it was rated with {len(values or ())} value(s) for {n_objectives} objective(s)"
    if not all(isinstance(v, float | int) and math.isfinite(v) for v in values):
        return f"it was rated {list(values)}, not finite numbers"
    return None


def as_not_rated(trial: FrozenTrial, reason: str) -> FrozenTrial:
    """A copy of ``trial`` read as failed, with the reason."""
    return FrozenTrial(
        number=trial.number, state=TrialState.FAIL, value=None, values=None,
        datetime_start=trial.datetime_start, datetime_complete=trial.datetime_complete,
        params=trial.params, distributions=trial.distributions, user_attrs=trial.user_attrs,
        system_attrs={**trial.system_attrs, NOT_RATED_ATTR: reason}, intermediate_values=trial.intermediate_values,
        trial_id=trial._trial_id,
    )


def record_not_rated(storage: BaseStorage, trial_id: int, reason: str) -> bool:
    """On a database, fail the completed trial with ``reason`` in ``hitl:error``; whether it was."""
    backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
    if not isinstance(backend, RDBStorage):
        return False
    trials, values = models.TrialModel.__table__, models.TrialValueModel.__table__
    attrs = models.TrialUserAttributeModel.__table__
    with backend.engine.begin() as conn:
        changed = conn.execute(trials.update().where(
            trials.c.trial_id == trial_id, trials.c.state == TrialState.COMPLETE,
        ).values(state=TrialState.FAIL)).rowcount
        if not changed:
            return False
        conn.execute(values.delete().where(values.c.trial_id == trial_id))
        conn.execute(attrs.delete().where(attrs.c.trial_id == trial_id, attrs.c.key == ERROR_ATTR))
        conn.execute(attrs.insert().values(trial_id=trial_id, key=ERROR_ATTR, value_json=json.dumps(f"not a rating: {reason}")))
    return True
