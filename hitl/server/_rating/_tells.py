"""Ratings made in the view: stored with their rater's name, told once enough people rated, undoable
for a short while."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging
import threading
import time
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hitl.queue import READY_ATTR
from hitl.server._rating._holds import Holds
from hitl.server._rating._records import combine
from hitl.server._rating._records import holder
from hitl.server._rating._records import RATER_ATTR
from hitl.server._rating._records import RATING_PREFIX
from hitl.server._rating._records import ratings


__all__ = ["Conflict", "Ratings"]

_log = logging.getLogger("hitl")


class Conflict(Exception):
    """A rating that cannot be stored, for a reason the rater should read (answered with 409)."""


@dataclass
class _Pending:
    trial_id: int
    client: str
    k: int
    timer: threading.Timer


class Ratings:
    """Stores ratings, tells trials, and takes a rater's last rating back.

    A rating is stored at once as the trial user attribute ``hitl:rating:<name>``. Once
    ``k`` people rated a trial it is told the median of their ratings (``k`` is the study's
    ``hitl:raters_per_output``). That tell waits ``undo_window`` seconds, or until the same
    rater's next rating or a rater finding nothing left to rate, whichever comes first: until then
    the rating can be undone and no sampler has seen it. Afterwards an undo is refused with
    the reason (the sampler may already have used it; the study keeps it).

    Args:
        storage: The study's storage.
        holds: The view's holds, which keep a rated trial from others during its undo window.
        undo_window: Seconds a rating waits before its trial is told (0: told at once, no undo).
        on_tell: Called after each trial the view tells, so the loop refills at once.
        check: Returns why a rating is not acceptable for the study (``None``: it is), given
            the study id, the trial and the values.
    """

    def __init__(
        self, *, storage: BaseStorage, holds: Holds, undo_window: float = 5.0,
        on_tell: Callable[[], None] | None = None,
        check: Callable[[int, Any, list[float]], str | None] | None = None,
    ) -> None:
        self.storage, self.holds, self.undo_window = storage, holds, undo_window
        self.on_tell, self.check = on_tell, check
        self._lock = threading.RLock()
        self._pending: dict[int, _Pending] = {}
        self._last: dict[str, int] = {}  # client -> the trial of its last rating
        self.counts: dict[tuple[int, str], int] = {}  # (study, name) -> ratings this process stored

    def rate(self, study_id: int, trial_id: int, client: str, name: str, values: list[float], k: int) -> None:
        """Store ``name``'s rating of the trial; :class:`Conflict` if it cannot be."""
        with self._lock:
            trial = self.storage.get_trial(trial_id)
            if trial.state.is_finished():
                raise Conflict(f"trial {trial.number} was rated already (by someone else, in the dashboard or a script)")
            if READY_ATTR not in trial.system_attrs:
                raise Conflict(f"trial {trial.number} is not ready for rating yet")
            if holder(trial, time.time()) not in (None, client):
                raise Conflict(f"another rater has trial {trial.number}; here is another output")
            if trial.user_attrs.get(RATING_PREFIX + name) is not None:
                raise Conflict(f"{name} rated trial {trial.number} already")
            reason = self.check(study_id, trial, values) if self.check is not None else None
            if reason is not None:
                raise ValueError(reason)
            try:
                self.storage.set_trial_user_attr(trial_id, RATING_PREFIX + name, [float(v) for v in values])
            except optuna.exceptions.UpdateFinishedTrialError:
                raise Conflict(f"trial {trial.number} was rated already (by someone else, in the dashboard or a script)") from None
            self._flush(lambda p: p.client == client)  # only the last rating stays undoable
            self._last[client] = trial_id
            if (study_id, name) in self.counts:  # else the view counts the stored ratings when it first needs to
                self.counts[(study_id, name)] += 1
            if len(ratings(trial)) + 1 < k:
                self.holds.release(trial_id, client)  # the next person may rate it now
            elif self.undo_window <= 0:
                self.tell(trial_id, k)
            else:
                self.holds.keep(trial_id, client, self.undo_window + 10)  # outlives the timer
                timer = threading.Timer(self.undo_window, self._tell_pending, (trial_id, k))
                timer.daemon = True
                self._pending[trial_id] = _Pending(trial_id, client, k, timer)
                timer.start()

    def undo(self, study_id: int, client: str, name: str) -> tuple[int | None, str]:
        """Take back ``client``'s last rating: the trial to show again (if any) and what happened."""
        with self._lock:
            trial_id = self._last.pop(client, None)
            if trial_id is None:
                return None, "nothing to undo"
            pending = self._pending.pop(trial_id, None)
            if pending is not None:
                pending.timer.cancel()
            trial = self.storage.get_trial(trial_id)
            if trial.state.is_finished():
                return None, (f"too late: trial {trial.number}'s rating was handed to the sampler "
                              "(it may have used it for the next outputs); the study keeps it")
            self.storage.set_trial_user_attr(trial_id, RATING_PREFIX + name, None)
            if (study_id, name) in self.counts:
                self.counts[(study_id, name)] = max(0, self.counts[(study_id, name)] - 1)
            if holder(trial, time.time()) in (None, client):
                self.holds.keep(trial_id, client, 0)  # drop the rated mark ...
                self.holds.renew(trial_id, client)  # ... and hold it again, to be rated again
                return trial_id, f"undone: trial {trial.number} is back"
            return None, f"undone: trial {trial.number} goes back to the queue"

    def flush(self) -> None:
        """Tell every rated trial now (a rater found nothing left to rate, or the server stops)."""
        with self._lock:
            self._flush(lambda p: True)

    def tell(self, trial_id: int, k: int) -> bool:
        """Tell the trial the combined rating if ``k`` people rated it; whether it was told here."""
        with self._lock:
            trial = self.storage.get_trial(trial_id)
            given = ratings(trial)
            if trial.state != TrialState.RUNNING or len(given) < k:
                return False
            try:
                self.storage.set_trial_user_attr(trial_id, RATER_ATTR, ", ".join(sorted(given)))
                self.storage.set_trial_state_values(trial_id, TrialState.COMPLETE, combine(given))
            except optuna.exceptions.UpdateFinishedTrialError:
                _log.info("trial %d was rated elsewhere while its view rating waited", trial.number)
                return False
        if self.on_tell is not None:
            self.on_tell()
        return True

    def _flush(self, which: Callable[[_Pending], bool]) -> None:
        for pending in [p for p in self._pending.values() if which(p)]:
            del self._pending[pending.trial_id]
            pending.timer.cancel()
            self.tell(pending.trial_id, pending.k)

    def _tell_pending(self, trial_id: int, k: int) -> None:
        with self._lock:
            if self._pending.pop(trial_id, None) is None:
                return  # undone or flushed meanwhile
        try:
            self.tell(trial_id, k)
        except Exception:  # noqa: BLE001 - a timer thread has nobody to raise to; the next take retries
            _log.exception("telling trial %d failed; it is retried when a rater next asks", trial_id)
