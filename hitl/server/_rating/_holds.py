"""Holds: each rater is handed a different waiting output, for as long as they are looking at it."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from dataclasses import field
import threading
import time

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from hitl.queue._claim import study_lock
from hitl.server._rating._records import HOLD_ATTR
from hitl.server._rating._records import holder
from hitl.server._rating._records import RATING_PREFIX
from hitl.server._rating._records import ratings
from hitl.server._rating._records import waiting


__all__ = ["Holds", "Pick"]


@dataclass
class Pick:
    """What :meth:`Holds.take` found: the trial now held, a hint, and trials rated enough but
    never told (their rater's process stopped within the undo window)."""

    trial: FrozenTrial | None = None
    hint: FrozenTrial | None = None
    orphans: list[int] = field(default_factory=list)


class Holds:
    """Hands out the study's waiting trials, one per rater, and takes them back.

    A hold is a trial system attribute with its holder and an expiry (``seconds`` from its last
    renewal: the page renews it while it is open and visible). Taking a trial happens under the
    queue's study lock, so two processes serving the same study never hand out the same trial,
    and under a thread lock, so two requests in this process never do either.

    Args:
        storage: The study's storage.
        seconds: How long a hold lasts without renewal: a person who walks away frees their
            output after this.
    """

    def __init__(self, *, storage: BaseStorage, seconds: float = 30.0) -> None:
        self.storage = storage
        self.seconds = seconds
        self._lock = threading.Lock()

    def take(
        self, study_id: int, client: str, name: str, *, k: int = 1, prefer: int | None = None,
        skipped: Container[int] = (),
    ) -> Pick:
        """Hold a waiting trial for ``client``: the one it holds already, else ``prefer`` if free,
        else the oldest free one ``name`` has not rated.

        The trial is ``None`` if none is free; the hint is another free trial the page may
        preload (held by nobody: the likely next pick, not a promise).
        """
        now = time.time()
        pick = Pick()
        with self._lock, study_lock(self.storage, study_id):
            trials = waiting(self.storage, study_id)
            mine = [t for t in trials if holder(t, now) == client and not t.system_attrs[HOLD_ATTR].get("rated")]
            free = []
            for t in trials:
                if holder(t, now) is not None or t.user_attrs.get(RATING_PREFIX + name) is not None:
                    continue
                if len(ratings(t)) >= k:
                    pick.orphans.append(t._trial_id)
                else:
                    free.append(t)
            fresh = [t for t in free if t._trial_id not in skipped] or free  # skipped ones come back last
            chosen = mine[0] if mine else next((t for t in fresh if t._trial_id == prefer), None)
            for candidate in ([chosen] if chosen is not None else []) + fresh:
                if self._hold(candidate, client, now):
                    pick.trial = candidate
                    pick.hint = next((t for t in fresh if t._trial_id != candidate._trial_id), None)
                    break
        return pick

    def renew(self, trial_id: int, client: str) -> bool:
        """Extend ``client``'s hold; ``False`` if the trial is rated or someone else holds it."""
        now = time.time()
        with self._lock:
            trial = self.storage.get_trial(trial_id)
            if trial.state.is_finished() or holder(trial, now) not in (None, client):
                return False
            return self._hold(trial, client, now)

    def keep(self, trial_id: int, client: str, seconds: float) -> None:
        """Hold the trial ``client`` just rated for ``seconds`` (its undo window): nobody else is
        handed it, and ``client`` is not handed it again."""
        self._write(trial_id, {"by": client, "until": time.time() + seconds, "rated": True})

    def release(self, trial_id: int, client: str) -> None:
        """Give the trial back, if ``client`` holds it."""
        with self._lock:
            trial = self.storage.get_trial(trial_id)
            if not trial.state.is_finished() and holder(trial, time.time()) == client:
                self._write(trial_id, {"by": None, "until": 0})

    def holders(self, study_id: int) -> set[str]:
        """The clients holding one of the study's waiting trials now."""
        now = time.time()
        return {h for t in waiting(self.storage, study_id) if (h := holder(t, now)) is not None}

    def _hold(self, trial: FrozenTrial, client: str, now: float) -> bool:
        return self._write(trial._trial_id, {"by": client, "until": now + self.seconds})

    def _write(self, trial_id: int, hold: dict) -> bool:
        try:
            self.storage.set_trial_system_attr(trial_id, HOLD_ATTR, hold)
        except optuna.exceptions.UpdateFinishedTrialError:  # rated meanwhile, e.g. in the dashboard
            return False
        return True
