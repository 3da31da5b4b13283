"""A study's waiting trials, ratings and best rating, counted by reading only what changed."""

from __future__ import annotations

from dataclasses import dataclass
import logging

from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.trial import TrialState

from hitl.queue._feed import TrialFeed
from hitl.queue._verdict import NOT_RATED_ATTR
from hitl.queue._verdict import record_not_rated


__all__ = ["Progress", "Tally"]

_log = logging.getLogger("hitl")


@dataclass(frozen=True)
class Progress:
    """What the terminal shows: trials waiting, ratings so far, and the best one."""

    waiting: int
    rated: int
    best_value: float | None = None
    best_number: int | None = None  # the lowest-numbered of the best
    best_numbers: tuple[int, ...] = ()  # every trial rated best, in trial order
    counted: str = "rated"  # what ``rated`` counts, as the progress line names it ("chosen" for comparisons)


class Tally:
    """A study's waiting trials, ratings and best rating, kept current by reading only what changed.

    Finished trials never change again, so each update takes in only the trials that are new or
    were unfinished at the last one (:class:`~hitl.queue._feed.TrialFeed`, without parameters): on an
    RDB storage one light query whatever the study's size. Counting with ``get_n_trials`` /
    ``get_all_trials`` instead costs a refresh of optuna's trial cache per count and a pass over
    every trial, and ``get_best_trial`` a sort of every rating in the database.

    Equally rated best trials are all kept (``best_numbers``); ``best_number`` is the lowest of
    them (``get_best_trial`` leaves ties to the database).

    A completed trial that is no rating (:mod:`hitl.queue._verdict`) is not counted; with
    ``record``, it is logged and, on a database, recorded as failed with the reason.
    """

    def __init__(self, storage: BaseStorage, study_id: int, direction: StudyDirection | None, *,
                 record: bool = False) -> None:
        self._storage = storage
        self._record = record
        self._feed = TrialFeed(storage, study_id, params=False)
        self._maximize = None if direction is None else direction == StudyDirection.MAXIMIZE
        self._unfinished: dict[int, TrialState] = {}
        self.rated = 0
        self._best: tuple[float, list[int]] | None = None  # (value, numbers rated so)

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
        if self._best is None:
            return Progress(self.waiting, self.rated)
        value, numbers = self._best
        ordered = tuple(sorted(numbers))
        return Progress(self.waiting, self.rated, value, ordered[0], ordered)

    def update(self) -> None:
        self._feed.update()
        for t in self._feed.changed:
            if not t.state.is_finished():
                self._unfinished[t._trial_id] = t.state
                continue
            self._unfinished.pop(t._trial_id, None)  # each finished trial is taken in once
            if t.state == TrialState.COMPLETE:
                self.rated += 1
                if t.values:
                    self._consider(t.values[0], t.number)
            elif self._record and NOT_RATED_ATTR in t.system_attrs:
                reason = t.system_attrs[NOT_RATED_ATTR]
                recorded = record_not_rated(self._storage, t._trial_id, reason)
                _log.warning("trial %d is not counted as a rating: %s%s", t.number, reason,
                             "; recorded as failed" if recorded else "")

    def _consider(self, value: float, number: int) -> None:
        if self._maximize is None:
            return
        if self._best is None:
            self._best = (value, [number])
            return
        best_value, numbers = self._best
        if value == best_value:
            numbers.append(number)
        elif value > best_value if self._maximize else value < best_value:
            self._best = (value, [number])
