"""A study's waiting trials, ratings and best rating, counted by reading only what changed."""

from __future__ import annotations

from dataclasses import dataclass

from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.study import StudyDirection
from optuna.trial import TrialState
import sqlalchemy


__all__ = ["Progress", "Tally"]


@dataclass(frozen=True)
class Progress:
    """What the terminal shows: trials waiting, ratings so far, and the best one."""

    waiting: int
    rated: int
    best_value: float | None = None
    best_number: int | None = None


class Tally:
    """A study's waiting trials, ratings and best rating, kept current by reading only what changed.

    Finished trials never change again, so each update needs only the trials that are new or
    were unfinished at the last one. On an RDB storage that is one light query (ids, states and
    first values; no params or attributes), whatever the study's size; counting with
    ``get_n_trials`` / ``get_all_trials`` instead costs a refresh of optuna's trial cache per
    count and a pass over every trial, and ``get_best_trial`` a sort of every rating in the
    database. Other storages keep their trials in this process: they are counted from
    ``get_all_trials``.

    Of equally rated trials the best is the one with the lowest number (``get_best_trial``
    leaves ties to the database).
    """

    def __init__(self, storage: BaseStorage, study_id: int, direction: StudyDirection | None) -> None:
        self._storage = storage
        self._study_id = study_id
        self._maximize = None if direction is None else direction == StudyDirection.MAXIMIZE
        backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
        self._query = _RdbTrialStates(backend) if isinstance(backend, RDBStorage) else None
        self._last_id = -1  # every trial with a lower or equal id has been seen
        self._unfinished: dict[int, TrialState] = {}
        self.rated = 0
        self._best: tuple[float, int] | None = None  # (value, number)

    @property
    def unfinished_ids(self) -> set[int]:
        return set(self._unfinished)

    @property
    def enqueued(self) -> bool:
        """Whether the study holds trials enqueued for a later ask (``Study.enqueue_trial``)."""
        return any(state == TrialState.WAITING for state in self._unfinished.values())

    @property
    def waiting(self) -> int:
        return sum(1 for state in self._unfinished.values() if state == TrialState.RUNNING)

    def progress(self) -> Progress:
        best_value, best_number = self._best if self._best is not None else (None, None)
        return Progress(self.waiting, self.rated, best_value, best_number)

    def update(self) -> None:
        if self._query is None:
            self._recount()
            return
        rows = self._query.rows(self._study_id, self._last_id, list(self._unfinished))
        for trial_id, number, state, value in rows:
            self._last_id = max(self._last_id, trial_id)
            if not state.is_finished():
                self._unfinished[trial_id] = state
                continue
            self._unfinished.pop(trial_id, None)  # each finished trial is seen exactly once
            if state == TrialState.COMPLETE:
                self.rated += 1
                if value is not None:
                    self._consider(value, number)

    def _recount(self) -> None:
        trials = self._storage.get_all_trials(self._study_id, deepcopy=False)
        self._unfinished = {t._trial_id: t.state for t in trials if not t.state.is_finished()}
        self.rated, self._best = 0, None
        for t in trials:
            if t.state == TrialState.COMPLETE:
                self.rated += 1
                if t.values:
                    self._consider(t.values[0], t.number)

    def _consider(self, value: float, number: int) -> None:
        if self._maximize is None:
            return
        if self._best is None:
            self._best = (value, number)
            return
        best_value, best_number = self._best
        better = value > best_value if self._maximize else value < best_value
        if better or (value == best_value and number < best_number):
            self._best = (value, number)


class _RdbTrialStates:
    """The one query :class:`Tally` needs, on optuna's own tables (so on its schema)."""

    def __init__(self, storage: RDBStorage) -> None:
        self._engine = storage.engine
        self._to_value = models.TrialValueModel.stored_repr_to_value
        trials = models.TrialModel.__table__
        values = models.TrialValueModel.__table__
        self._trials = trials
        self._select = (
            sqlalchemy.select(trials.c.trial_id, trials.c.number, trials.c.state, values.c.value, values.c.value_type)
            .select_from(trials.outerjoin(values, sqlalchemy.and_(values.c.trial_id == trials.c.trial_id,
                                                                  values.c.objective == 0)))
        )
        self._union_all = sqlalchemy.union_all

    def rows(self, study_id: int, after_id: int, also_ids: list[int]) -> list[tuple[int, int, TrialState, float | None]]:
        """Trials of the study with an id above ``after_id`` or in ``also_ids``.

        Two selects joined by UNION ALL, not one with OR: with OR, SQLite walks the study's
        index over all its trials; each half alone is a range or key look-up.
        """
        t = self._trials.c
        mine = self._select.where(t.study_id == study_id)
        statement = mine.where(t.trial_id > after_id)
        if also_ids:
            statement = self._union_all(statement, mine.where(t.trial_id.in_(also_ids)))
        with self._engine.connect() as conn:
            result = conn.execute(statement).all()
        return [
            (trial_id, number, state, None if value_type is None else self._to_value(value, value_type))
            for trial_id, number, state, value, value_type in result
        ]

