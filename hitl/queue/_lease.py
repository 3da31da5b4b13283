"""Which worker is making which trial, so a dead worker's half-made trial is repaired, never a live one's.

A worker claims each trial it asks for with a lease (a trial system attribute) and renews it
while rendering. A trial without its output that nobody holds is abandoned: its lease ran out,
its owner was a process on this machine that is gone, or it has no lease at all (claims are
made under the study lock, so under that lock an unclaimed trial is an orphan).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import datetime
import os
import socket
import time
from typing import Any
import uuid

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from hitl._periodic import every
from hitl.queue._records import insert_trial


__all__ = ["LEASE_ATTR", "Worker"]

LEASE_ATTR = "hitl:lease"  # {"owner": worker id, "host": ..., "pid": ..., "until": unix seconds}


class Worker:
    """This process as a generator worker: its id and its leases.

    Args:
        storage: The study's storage.
        lease: Seconds a claim lasts unless renewed.
    """

    def __init__(self, storage: BaseStorage, lease: float) -> None:
        self.storage = storage
        self.lease = lease
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.id = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"

    def claim(self, trial_id: int) -> None:
        self.storage.set_trial_system_attr(trial_id, LEASE_ATTR, self._lease_value())

    def new_trial(self, study_id: int) -> FrozenTrial:
        """Create a running trial claimed by this worker, in one write; return it as stored."""
        trial = insert_trial(self.storage, study_id, {LEASE_ATTR: self._lease_value()})
        if trial is not None:
            return trial
        template = FrozenTrial(
            number=-1, state=TrialState.RUNNING, value=None, datetime_start=datetime.datetime.now(),
            datetime_complete=None, params={}, distributions={}, user_attrs={},
            system_attrs={LEASE_ATTR: self._lease_value()}, intermediate_values={}, trial_id=-1,
        )
        return self.storage.get_trial(self.storage.create_new_trial(study_id, template_trial=template))

    @contextlib.contextmanager
    def renewing(self, trial_id: int) -> Iterator[None]:
        """Renew the claim on ``trial_id`` every third of the lease while the body runs."""

        def beat() -> None:
            try:
                self.storage.set_trial_system_attr(trial_id, LEASE_ATTR, self._lease_value())
            except Exception:  # noqa: BLE001 - the database may be away; the next beat retries
                pass

        with every(self.lease / 3, beat, name="hitl-lease"):
            yield

    def abandoned(self, trial: FrozenTrial, now: float | None = None) -> str | None:
        """Why the unfinished ``trial`` (one without its output) is abandoned, or ``None`` if held."""
        lease: Any = trial.system_attrs.get(LEASE_ATTR)
        if not isinstance(lease, dict):
            return "no worker claimed it"
        if lease.get("owner") == self.id:
            return "this worker left it half-made (the database went away mid-trial)"
        if lease.get("host") == self.host and not _alive(int(lease.get("pid", -1))):
            return f"its worker (pid {lease.get('pid')} on this machine) is gone"
        if float(lease.get("until", 0)) < (time.time() if now is None else now):
            return f"its worker {lease.get('owner')} stopped renewing its lease"
        return None

    def _lease_value(self) -> dict[str, Any]:
        return {"owner": self.id, "host": self.host, "pid": self.pid, "until": time.time() + self.lease}


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True
