"""Three ``python run.py`` workers on one study, one of them killed with SIGKILL every 1-5 s.

The scenario of issue 11's reliability target, shared by ``benchmarks/kill_workers.py`` (the
figures) and ``tests/queue/test_kill_workers.py`` (the targets, on fewer kills):

* 3 workers (``python run.py``, the tutorial's setup) share one study in a temp folder; each
  serves the dashboard on a port of its own.
* Every 1-5 s a random worker that serves (it has opened the study and started its dashboard,
  and is repairing, making trials or waiting) is killed with SIGKILL and restarted at once,
  ``kills`` times. A kill falls due only while another worker serves too: a restart takes
  seconds (10-40 s on a loaded 2-core machine), and kills at that pace would otherwise hit
  processes still importing Python modules, or leave none serving for long stretches.
* A rater waits until the queue holds ``batch`` ready trials, then rates a random one with
  ``POST /api/trials/<id>/tell`` on a random live worker's dashboard.
* A monitor reads the storage every few milliseconds (reads only: every write goes through the
  workers or their dashboards).

What it counts:

* acknowledged: tells answered 200.
* lost: acknowledged ratings that the study does not hold at the end as that trial's value.
* duplicated: a second 200 for one trial, a completed trial nobody rated, or one output
  (the same parameters) in two trials that were not failed.
* max unfinished: the most trials running or waiting (half-made ones too) in any monitor read.
* crashes: a worker that exits by itself (any status, while it should be running), one that
  exits non-zero on SIGTERM at the end, or a ``Traceback`` in any worker's log.
* refill: the time from a rating's 200 until the queue holds ``batch`` ready trials again,
  counting only the time at least one worker serves (always, given how kills fall due).
* tell: the duration of a tell that got an HTTP answer.

A stall is the longest refill or the longest tell, whichever is longer.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import os
from pathlib import Path
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import optuna
from optuna.trial import TrialState

from hitl.queue import READY_ATTR

from benchmarks.kill_report import check_logs
from benchmarks.kill_report import check_study
from benchmarks.kill_report import Report


__all__ = ["Report", "STORAGES", "run_scenario"]  # Report: benchmarks/kill_report.py

ROOT = Path(__file__).resolve().parents[1]
STORAGES = ("sqlite", "postgres", "journal")
STUDY = "killed"
_SERVED = re.compile(r"rate the trials at http://127\.0\.0\.1:(\d+)/")


class _Worker:
    """One ``python run.py`` process, its log in a file; restartable under the same slot."""

    def __init__(self, folder: Path, env: dict[str, str], overrides: list[str], slot: int) -> None:
        self.folder, self.env, self.overrides, self.slot = folder, env, overrides, slot
        self.starts = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder
        self.start()

    def start(self) -> None:
        self.starts += 1
        self._port: int | None = None
        self.log = self.folder / f"worker{self.slot}-{self.starts}.log"
        run_dir = self.folder / "runs" / f"{self.slot}-{self.starts}"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), *self.overrides, f"hydra.run.dir={run_dir}"],
                cwd=self.folder, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )

    def port(self) -> int | None:
        """The dashboard's port once this start serves it, else ``None``."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        if self._port is None:
            found = _SERVED.search(self.log.read_text(errors="replace"))
            self._port = int(found.group(1)) if found else None
        return self._port

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()


def _tell(port: int, trial_id: int, value: float) -> int | None:
    """The HTTP status of one rating, or ``None`` if no answer came (the worker was killed)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/trials/{trial_id}/tell", method="POST",
        data=json.dumps({"state": "Complete", "values": [value]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def _overrides(storage: str, folder: Path, batch: int) -> list[str]:
    where = {
        "sqlite": [f"storage.url=sqlite:///{folder / 'hitl.db'}"],
        "postgres": ["storage=postgres"],
        "journal": ["storage=journal", f"storage.log_storage.file_path={folder / 'hitl.journal.log'}"],
    }[storage]
    return ["+experiment=tutorial", f"study_name={STUDY}", f"batch={batch}", "results=false", "poll_interval=0.2",
            f"artifacts.base_path={folder / 'artifacts'}", "dashboard.port=0", *where]


def _reader(storage: str, folder: Path, postgres_url: str | None) -> optuna.storages.BaseStorage:
    if storage == "journal":
        backend = optuna.storages.journal.JournalFileBackend(str(folder / "hitl.journal.log"))
        return optuna.storages.JournalStorage(backend)
    return optuna.storages.RDBStorage(postgres_url if storage == "postgres" else f"sqlite:///{folder / 'hitl.db'}")


def _trials(reader: optuna.storages.BaseStorage) -> list[optuna.trial.FrozenTrial]:
    try:
        return reader.get_all_trials(reader.get_study_id_from_name(STUDY), deepcopy=False)
    except KeyError:
        return []


def run_scenario(storage: str, folder: Path, *, kills: int, seed: int = 0, batch: int = 4,
                 postgres_url: str | None = None, env: dict[str, str] | None = None,
                 say: Callable[[str], None] = lambda line: None) -> Report:
    """Run the scenario on ``storage`` (one of :data:`STORAGES`) in ``folder``; stop every worker before returning."""
    env = {**(env or os.environ), "HITL_POSTGRES_URL": postgres_url or ""}
    report = Report(storage=storage, batch=batch)
    rng = random.Random(seed)
    reader = _reader(storage, folder, postgres_url)
    overrides = _overrides(storage, folder, batch)
    workers: list[_Worker] = []
    stop = threading.Event()
    told: dict[int, float] = {}
    sent: set[int] = set()
    up_clock = [0.0]  # seconds so far with at least one worker serving
    ready_at = [0.0]  # up_clock at the last rating's 200
    state_lock = threading.Lock()

    def monitor() -> None:
        last = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if any(w.port() is not None for w in workers):
                up_clock[0] += now - last
            last = now
            trials = _trials(reader)
            unfinished = [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
            with state_lock:
                report.samples += 1
                report.max_unfinished = max(report.max_unfinished, len(unfinished))
            stop.wait(0.02)

    def rater() -> None:
        rater_rng = random.Random(seed + 1)
        while not stop.is_set():
            waiting = [t for t in _trials(reader) if t.state == TrialState.RUNNING and READY_ATTR in t.system_attrs]
            ports = [p for p in (w.port() for w in workers) if p is not None]
            if len(waiting) < batch or not ports:
                stop.wait(0.02)
                continue
            with state_lock:
                refill = up_clock[0] - ready_at[0]
                if refill > report.longest_refill:
                    report.longest_refill = refill
                    report.longest_refill_at = time.strftime("%H:%M:%S")
            trial = rater_rng.choice(waiting)
            value = float(rater_rng.choice([-1, 0, 1]))
            started = time.monotonic()
            status = _tell(rater_rng.choice(ports), trial._trial_id, value)
            took = time.monotonic() - started
            with state_lock:
                sent.add(trial._trial_id)
                if status is None:  # perhaps stored: the queue may be one short from now too
                    report.unanswered += 1
                    ready_at[0] = up_clock[0]
                    continue
                report.longest_tell = max(report.longest_tell, took)
                if status != 200:
                    report.refused += 1
                    continue
                report.acked += 1
                if trial._trial_id in told:
                    report.duplicated += 1
                    report.details.append(f"trial {trial.number} acknowledged twice")
                told[trial._trial_id] = value
                ready_at[0] = up_clock[0]
            stop.wait(rater_rng.uniform(0.0, 0.3))

    threads = [threading.Thread(target=monitor, daemon=True), threading.Thread(target=rater, daemon=True)]
    try:
        workers.extend(_Worker(folder, env, overrides, slot) for slot in range(3))
        _wait_serving(workers, report)
        for t in threads:
            t.start()
        began = time.monotonic()
        next_kill = began + rng.uniform(1, 5)
        while report.kills < kills:
            _revive(workers, report)
            serving = [w for w in workers if w.port() is not None]
            if time.monotonic() >= next_kill and len(serving) >= 2:
                victim = rng.choice(serving)
                victim.kill()
                victim.start()
                report.kills += 1
                say(f"{storage}: kill {report.kills}/{kills} (worker {victim.slot}), {report.acked} ratings")
                next_kill = time.monotonic() + rng.uniform(1, 5)
            time.sleep(0.05)
        report.seconds = time.monotonic() - began
        _wait_serving(workers, report)
        time.sleep(3)  # the last restart's refill, rated as the others
    finally:
        stop.set()
        _stop_all(workers, report)
        for t in threads:
            if t.ident is not None:
                t.join(60)
    check_logs(folder, report)
    check_study(_trials(reader), told, sent, report)
    if hasattr(reader, "engine"):
        reader.engine.dispose()
    return report


def _revive(workers: list[_Worker], report: Report) -> None:
    """A worker that ended without being killed crashed: count it and start it again."""
    for w in workers:
        if w.proc is not None and w.proc.poll() is not None:
            report.crashes += 1
            report.details.append(f"worker {w.slot} exited {w.proc.returncode} by itself:\n{_tail(w.log)}")
            w.start()


def _wait_serving(workers: list[_Worker], report: Report, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not all(w.port() is not None for w in workers):
        _revive(workers, report)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not all serve their dashboard in {timeout:g} s")
        time.sleep(0.1)


def _stop_all(workers: list[_Worker], report: Report) -> None:
    """SIGTERM, as Ctrl-C would; a worker that then exits non-zero (or hangs) counts as a crash."""
    for w in workers:
        if w.proc is not None and w.proc.poll() is None:
            w.proc.send_signal(signal.SIGTERM)
    for w in workers:
        if w.proc is None:
            continue
        try:
            code = w.proc.wait(60)
        except subprocess.TimeoutExpired:
            code = None
            w.kill()
        if code != 0:
            report.crashes += 1
            report.details.append(f"worker {w.slot} exited {code} on SIGTERM:\n{_tail(w.log)}")


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
