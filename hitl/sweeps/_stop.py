"""A sweep's jobs together: Ctrl-C or SIGTERM ends every job after its step in hand; tagged log lines.

A sweep's jobs run one after another in the launching process, or at once in worker processes
(Hydra's joblib launcher). Ctrl-C in a terminal reaches all of them; SIGTERM reaches only the
process it is sent to. Either way the stop is written as a file in the sweep folder: running
jobs watch for it and stop after their step in hand, jobs not yet started are skipped, and the
launching process waits for them and writes the sweep's report as usual.

The launching process ignores SIGINT while the jobs run (:class:`hitl.sweeps.SweepStop`):
otherwise joblib would turn a Ctrl-C into killing its workers mid-step. Worker processes
inherit that, so one waiting for its next job ignores Ctrl-C too; a job in hand stops on it.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import logging
import os
from pathlib import Path
import threading

from hitl._periodic import every
from hitl.sweeps._jobs import _multirun
from hitl.sweeps._jobs import SWEEP_ID_ENV


__all__ = ["request_sweep_stop", "stop_file", "tag_job_logs", "watch_sweep_stop"]

_log = logging.getLogger("hitl")


def stop_file(sweep_dir: str | Path) -> Path:
    """The file whose presence stops the sweep (named by the sweep's id: a reused folder starts clean)."""
    return Path(sweep_dir) / f".hitl-stop-{os.environ.get(SWEEP_ID_ENV, 'sweep')}"


def _job_stop_file() -> Path | None:
    hc = _multirun()
    return None if hc is None else stop_file(hc.sweep.dir)


def request_sweep_stop() -> None:
    """In a sweep's job: have the other jobs stop too, and the ones not started skip."""
    path = _job_stop_file()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


@contextlib.contextmanager
def watch_sweep_stop(stop: threading.Event, *, interval: float = 0.5) -> Iterator[None]:
    """In a sweep's job: set ``stop`` once the sweep is stopped (at once if it already is)."""
    path = _job_stop_file()
    if path is None:
        yield
        return
    if path.exists():
        stop.set()
        yield
        return

    def watch() -> bool:
        if not path.exists():
            return False
        if not stop.is_set():  # this job's own signal handler has said so already
            _log.info("the sweep is stopping: stopping after the step in hand")
            stop.set()
        return True

    with every(interval, watch, name="hitl-sweep-stop"):
        yield


class _JobTag(logging.Filter):
    def __init__(self, tag: str) -> None:
        super().__init__()
        self._tag = tag

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = f"{self._tag}{record.msg}"
        return True


@contextlib.contextmanager
def tag_job_logs() -> Iterator[None]:
    """In a sweep's job, hitl's log lines start with ``#<job number>``: jobs run at once interleave."""
    hc = _multirun()
    if hc is None:
        yield
        return
    tag = _JobTag(f"#{hc.job.num} ")
    _log.addFilter(tag)
    try:
        yield
    finally:
        _log.removeFilter(tag)
