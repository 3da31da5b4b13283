"""A study's trials kept current by reading only the trials that can have changed.

A finished trial never changes again, and a study's trials are created one at a time (optuna
and hitl lock the study's row to number them), so the trials that can have changed since the
last read are the new ones and those unfinished then. optuna's own cache reads those too, but
with every relationship of every such trial (seven queries) and an ``OR`` that makes SQLite walk
the study's whole index; on an RDB storage this reads them in one query for states and values,
and one for the parameters if asked, each a range or key look-up.

A completed trial that is no rating (told before its output was stored, or with values that are
not finite numbers, one per objective: :mod:`hitl.queue._verdict`) is read as failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
import math
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.distributions import json_to_distribution
from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import sqlalchemy

from hitl.queue._attrs import READY_ATTR
from hitl.queue._lease import LEASE_ATTR
from hitl.queue._verdict import as_not_rated
from hitl.queue._verdict import NOT_RATED_ATTR
from hitl.queue._verdict import not_a_rating


__all__ = ["TrialFeed"]


class TrialFeed:
    """All trials of one study, as light ``FrozenTrial`` objects, refreshed incrementally.

    The trials hold their state, values and (with ``params=True``) parameters; attributes and
    intermediate values are not read. Storages other than RDB keep their trials in this
    process: their trials are taken from ``get_all_trials`` as they are.

    Args:
        storage: The study's storage (optuna's cache around an RDB storage is looked through).
        study_id: The study.
        params: Also read the trials' parameters and distributions.
    """

    def __init__(self, storage: BaseStorage, study_id: int, *, params: bool) -> None:
        self._storage = storage
        self._study_id = study_id
        backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
        n_objectives = len(storage.get_study_directions(study_id))
        self._n_objectives = n_objectives
        self._rdb = _RdbReads(backend, params, n_objectives) if isinstance(backend, RDBStorage) else None
        self._trials: list[FrozenTrial] = []  # by number
        self._unfinished: set[int] = set()  # trial ids
        self._last_id = -1  # every trial with a lower or equal id has been read
        self.changed: list[FrozenTrial] = []
        """The trials the last :meth:`update` read: new ones and those unfinished before it."""

    def update(self) -> list[FrozenTrial]:
        """Read what can have changed; return all trials, by number."""
        if self._rdb is None:
            self._trials = [self._judged(t) for t in self._storage.get_all_trials(self._study_id, deepcopy=False)]
            self.changed = [t for t in self._trials if t._trial_id > self._last_id or t._trial_id in self._unfinished]
        else:
            self.changed = self._rdb.trials(self._study_id, self._last_id, sorted(self._unfinished))
            for t in self.changed:
                self._keep(t)
        for t in self.changed:
            self._last_id = max(self._last_id, t._trial_id)
            if t.state.is_finished():
                self._unfinished.discard(t._trial_id)
            else:
                self._unfinished.add(t._trial_id)
        return self._trials

    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials as of the last :meth:`update`, by number."""
        return self._trials

    def _judged(self, t: FrozenTrial) -> FrozenTrial:
        reason = not_a_rating(t.state, t.values, self._n_objectives, made_by_hitl=LEASE_ATTR in t.system_attrs,
                              ready=READY_ATTR in t.system_attrs)
        return t if reason is None else as_not_rated(t, reason)

    def _keep(self, t: FrozenTrial) -> None:
        n = t.number
        if n < len(self._trials) and self._trials[n].number == n:
            self._trials[n] = t
        elif n == len(self._trials):
            self._trials.append(t)
        else:  # not numbered 0, 1, 2... (not optuna's numbering): keep them sorted all the same
            by_number = {x.number: x for x in self._trials}
            by_number[n] = t
            self._trials = sorted(by_number.values(), key=lambda x: x.number)


class _RdbReads:
    """The feed's queries, on optuna's own tables (so on its schema)."""

    def __init__(self, storage: RDBStorage, params: bool, n_objectives: int) -> None:
        self._engine = storage.engine
        self._params = params
        self._n_objectives = n_objectives
        self._t = models.TrialModel.__table__
        self._v = models.TrialValueModel.__table__
        self._p = models.TrialParamModel.__table__
        attrs = models.TrialSystemAttributeModel.__table__
        lease, ready = attrs.alias("hitl_lease"), attrs.alias("hitl_ready")  # key look-ups: (trial_id, key) is unique
        t, v = self._t.c, self._v.c
        self._select = sqlalchemy.select(
            t.trial_id, t.number, t.state, t.datetime_start, t.datetime_complete, v.objective, v.value, v.value_type,
            lease.c.trial_system_attribute_id, ready.c.trial_system_attribute_id,
        ).select_from(
            self._t.outerjoin(self._v, v.trial_id == t.trial_id)
            .outerjoin(lease, sqlalchemy.and_(lease.c.trial_id == t.trial_id, lease.c.key == LEASE_ATTR))
            .outerjoin(ready, sqlalchemy.and_(ready.c.trial_id == t.trial_id, ready.c.key == READY_ATTR))
        )

    def trials(self, study_id: int, after_id: int, also_ids: Sequence[int]) -> list[FrozenTrial]:
        """Trials of the study with an id above ``after_id`` or in ``also_ids``, by number.

        Two selects joined by UNION ALL, not one with OR: with OR, SQLite walks the study's
        index over all its trials; each half alone is a range or key look-up.
        """
        t = self._t.c
        mine = self._select.where(t.study_id == study_id)
        statement = mine.where(t.trial_id > after_id)
        if also_ids:
            statement = sqlalchemy.union_all(statement, mine.where(t.trial_id.in_(also_ids)))
        with self._engine.connect() as conn:
            rows = conn.execute(statement).all()
            found: dict[int, dict[str, Any]] = {}
            for trial_id, number, state, start, complete, objective, value, value_type, lease, ready in rows:
                trial = found.setdefault(trial_id, {"number": number, "state": state, "start": start,
                                                    "complete": complete, "values": {}, "hitl": lease is not None,
                                                    "ready": ready is not None})
                if objective is not None:
                    trial["values"][objective] = _value(value, value_type)
            params = self._read_params(conn, list(found)) if self._params and found else {}
        return sorted((_frozen(i, f, params.get(i, ()), self._n_objectives) for i, f in found.items()),
                      key=lambda t: t.number)

    def _read_params(self, conn: sqlalchemy.Connection, trial_ids: list[int]) -> dict[int, list[tuple[str, float, str]]]:
        p = self._p.c
        rows = conn.execute(
            sqlalchemy.select(p.trial_id, p.param_name, p.param_value, p.distribution_json)
            .where(p.trial_id.in_(trial_ids)).order_by(p.param_id)
        ).all()
        out: dict[int, list[tuple[str, float, str]]] = {}
        for trial_id, name, value, dist in rows:
            out.setdefault(trial_id, []).append((name, value, dist))
        return out


def _value(value: float | None, value_type: Any) -> float:
    # optuna's own reading asserts on a NaN, which SQLite and PostgreSQL store as NULL
    kind = models.TrialValueModel.TrialValueType
    if value_type == kind.INF_POS:
        return math.inf
    if value_type == kind.INF_NEG:
        return -math.inf
    return math.nan if value is None else float(value)


def _frozen(trial_id: int, f: dict[str, Any], params: Sequence[tuple[str, float, str]], n_objectives: int) -> FrozenTrial:
    values = f["values"]
    dists = {name: _distribution(dist) for name, _, dist in params}
    state = TrialState(f["state"])
    listed = [values[k] for k in sorted(values)] if values else None
    reason = not_a_rating(state, listed, n_objectives, made_by_hitl=f["hitl"], ready=f["ready"])
    if reason is not None:  # read as failed: never a rating
        state, listed = TrialState.FAIL, None
    return FrozenTrial(
        number=f["number"], state=state, value=None, values=listed,
        datetime_start=f["start"], datetime_complete=f["complete"],
        params={name: dists[name].to_external_repr(value) for name, value, _ in params},
        distributions=dists, user_attrs={}, system_attrs={} if reason is None else {NOT_RATED_ATTR: reason},
        intermediate_values={}, trial_id=trial_id,
    )


@lru_cache(maxsize=256)
def _distribution(text: str) -> BaseDistribution:
    # a study stores the same few distributions with every trial: parse each once
    return json_to_distribution(text)

