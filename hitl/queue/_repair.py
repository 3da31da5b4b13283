"""The repair of half-made trials: a trial without its output that no live worker holds is failed.

A worker that dies (a crash, SIGKILL, a lost machine) between creating a trial and marking it
ready leaves a running trial nobody can rate; the next worker that counts the queue fails it, so
the loop replaces it. Trials that hold their output are adopted: they are waiting for a rating.
"""

from __future__ import annotations

import json
import logging

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hitl.queue._attrs import ARTIFACT_ATTR_PREFIX
from hitl.queue._attrs import ERROR_ATTR
from hitl.queue._attrs import READY_ATTR
from hitl.queue._lease import Worker
from hitl.queue._tally import Tally


__all__ = ["Repair"]

_log = logging.getLogger("hitl")


class Repair:
    """Knows which unfinished trials hold their output, and fails the abandoned ones.

    Args:
        storage: The study's storage.
        artifact_store: Where outputs are uploaded (to check adopted trials' outputs).
        worker: This worker, which tells a live worker's trial from an abandoned one.
    """

    def __init__(self, *, storage: BaseStorage, artifact_store: ArtifactStore, worker: Worker) -> None:
        self._storage = storage
        self._artifact_store = artifact_store
        self._worker = worker
        self.ready: set[int] = set()
        """Unfinished trials known to hold their output."""

    def abandoned(self, tally: Tally) -> list[int]:
        """Fail the unfinished trials of ``tally`` without output that no live worker holds.

        Call it under the study lock. Returns the failed trials' numbers.
        """
        repaired = []
        for trial_id in tally.unfinished_ids - self.ready:
            t = self._storage.get_trial(trial_id)
            if t.state != TrialState.RUNNING:
                continue
            if READY_ATTR in t.system_attrs:
                self.ready.add(trial_id)
                continue
            why = self._worker.abandoned(t)
            if why is None:
                continue  # a live worker is making it
            reason = f"no output was stored: {why}"
            try:
                self._storage.set_trial_user_attr(trial_id, ERROR_ATTR, reason)
                self._storage.set_trial_state_values(trial_id, TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # told meanwhile, by a person or another worker's repair: nothing to repair
            _log.warning("trial %d failed and replaced: %s", t.number, reason)
            repaired.append(t.number)
        self.ready &= tally.unfinished_ids
        return repaired

    def check_outputs_reachable(self) -> None:
        """Warn if adopted trials' outputs are not in this artifact store (a rerun from another folder)."""
        lost = []
        for trial_id in sorted(self.ready):
            t = self._storage.get_trial(trial_id)
            for key, value in t.system_attrs.items():
                if not key.startswith(ARTIFACT_ATTR_PREFIX):
                    continue
                try:
                    self._artifact_store.open_reader(json.loads(value)["artifact_id"]).close()
                except Exception:  # noqa: BLE001 - missing, unreadable: either way nobody sees it here
                    lost.append(t.number)
        if lost:
            where = getattr(self._artifact_store, "base_path", type(self._artifact_store).__name__)
            _log.warning(
                "%d waiting trial(s) (%s) have outputs that the artifact store here (%s) lacks: a dashboard "
                "on it shows no picture for them; run from the folder that made them, or set artifacts.base_path",
                len(lost), ", ".join(map(str, lost)), where,
            )
