"""A disk that fills while ``python run.py`` runs: one line naming that disk and the fix, exit 2, no rating lost.

The disk is a real one: a small tmpfs mounted for the test (root only; CI runs as root).
"""

from __future__ import annotations

from collections.abc import Iterator
import errno
import os
from pathlib import Path
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState
import pytest

from tests.conftest import need
from tests.conftest import ROOT
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


RUN = [sys.executable, str(ROOT / "run.py"), TUTORIAL, "dashboard.enabled=false", "results=false", "batch=2",
       "poll_interval=0.05", "generator._target_=tests.slow.SlowColor", "+generator.seconds=0.5"]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB file system of its own, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        need("a disk that fills is a small tmpfs, and mounting one needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        need(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)  # lazy: SQLite may hold the file open


def _fill(mount: Path) -> Path:
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _wait_for(log: Path, proc: subprocess.Popen[str], text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert proc.poll() is None, f"ended before logging {text!r}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} in {timeout} s:\n{log.read_text()}"
        time.sleep(0.05)


CASES = {  # where the small disk is in the run, and the words of the one line
    "database": (lambda d, t: [f"storage.url=sqlite:///{d / 'hitl.db'}", f"artifacts.base_path={t / 'artifacts'}"],
                 lambda d, t: [f"storage.url=sqlite:///{d / 'hitl.db'}: the disk holding {d / 'hitl.db'} (mounted at {d}",
                               "is full", "point storage.url at a file on another disk"]),
    "artifacts": (lambda d, t: [f"storage.url=sqlite:///{t / 'hitl.db'}", f"artifacts.base_path={d / 'artifacts'}"],
                  lambda d, t: [f"artifacts.base_path={d / 'artifacts'}: the disk holding {d / 'artifacts'} (mounted at {d}",
                                "set artifacts.base_path to a folder on another disk"]),
    "journal": (lambda d, t: ["storage=journal", f"storage.log_storage.file_path={d / 'j.log'}",
                              f"artifacts.base_path={t / 'artifacts'}"],
                lambda d, t: [f"storage.log_storage.file_path={d / 'j.log'}: the disk holding {d / 'j.log'}",
                              "set storage.log_storage.file_path to a file on another disk"]),
    "renders": (lambda d, t: [f"storage.url=sqlite:///{t / 'hitl.db'}", f"artifacts.base_path={t / 'artifacts'}"],
                lambda d, t: ["generator: the render ran out of disk space", f"TMPDIR={d}", "set TMPDIR to another disk"]),
}


def _storage(where: str, disk: Path, tmp_path: Path) -> optuna.storages.BaseStorage:
    if where == "journal":
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(disk / "j.log")))
    return optuna.storages.RDBStorage(f"sqlite:///{(disk if where == 'database' else tmp_path) / 'hitl.db'}")


def _close(storage: optuna.storages.BaseStorage) -> None:
    if isinstance(storage, optuna.storages.RDBStorage):
        storage.engine.dispose()


@pytest.mark.parametrize("where", list(CASES))
def test_a_disk_that_fills_mid_run_is_named_and_nothing_is_lost(where: str, disk: Path, tmp_path: Path) -> None:
    overrides, words = CASES[where]
    # a journal's small appends fit in its file's last page for a while: a rater in the run keeps
    # writing until one does not; elsewhere the test rates, as the dashboard would, and fills the disk
    simulated = where == "journal"
    name = "tutorial-choice-simulated" if simulated else "tutorial-choice"
    args = RUN + overrides(disk, tmp_path) + (["evaluator=simulated"] if simulated else [])
    env = dict(os.environ, TMPDIR=str(disk if where == "renders" else tmp_path))
    log = tmp_path / "run.txt"
    with open(log, "w") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(log, proc, "rated 1" if simulated else "waiting 2 | rated 0")
        storage = _storage(where, disk, tmp_path)
        study_id = storage.get_study_id_from_name(name)
        if not simulated:
            rated = waiting_trials(storage, study_id)[0]
            storage.set_trial_state_values(rated._trial_id, TrialState.COMPLETE, [1.0])  # wakes the loop
        filler = _fill(disk)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    text = log.read_text()
    assert proc.returncode == 2, text
    (line,) = [line for line in text.splitlines() if line.startswith("error:")]
    print(line)
    for word in words(disk, tmp_path):
        assert word in line, line
    assert "unreachable" not in text and "Traceback" not in text

    trials = storage.get_all_trials(study_id)
    kept = {t.number: t.values for t in trials if t.state == TrialState.COMPLETE}
    assert kept if simulated else kept == {rated.number: [1.0]}
    recorded = {v for t in trials for k, v in t.system_attrs.items() if k.startswith("artifacts:")}
    files = [*(tmp_path / "artifacts").glob("*"), *(disk / "artifacts").glob("*")]
    assert len(files) == len(recorded), "a file no trial records (a partial upload) was left"
    _close(storage)
    if where not in ("database", "journal"):
        return
    if simulated:
        assert (disk / "j.log").read_bytes().endswith(b"\n"), "a partial line: the next append would join it"
    # space freed, the next run reads the storage, repairs what the full disk left half-made and goes on
    filler.unlink()
    again = subprocess.run(args + ["timeout=3"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    storage = _storage(where, disk, tmp_path)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
        complete = {t.number: t.values for t in study.trials if t.state == TrialState.COMPLETE}
        assert {n: v for n, v in complete.items() if n in kept} == kept  # every rating is still there
        running = study.get_trials(states=(TrialState.RUNNING,))
        assert running == waiting_trials(storage, study_id)  # nothing half-made
        assert simulated or (complete == kept and len(running) == 2)
    finally:
        _close(storage)
