"""Layer 3: `python run.py ...` as a user runs it, rated over the dashboard's HTTP API."""

from __future__ import annotations

import contextlib
import json
import re
import os
from pathlib import Path
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import optuna
from optuna.trial import TrialState
import pytest
import sqlalchemy.exc

from tests.conftest import free_port
from tests.conftest import ROOT
from tests.conftest import waiting_trials


RUN = [sys.executable, str(ROOT / "run.py")]


def _start(cwd: Path, *overrides: str) -> subprocess.Popen[str]:
    return subprocess.Popen(RUN + list(overrides), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _tell(port: int, trial_id: int, value: float) -> int:
    """Exactly what the dashboard UI sends when a person submits a rating."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/trials/{trial_id}/tell", method="POST",
        data=json.dumps({"state": "Complete", "values": [value]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        body = res.read()
        assert json.loads(body) == {}  # the UI parses every answer as JSON
        return res.status


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _schema_ready(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return bool(conn.execute("SELECT version_num FROM alembic_version").fetchall())
    except sqlite3.Error:
        return False


def _waiting(db: Path) -> list[optuna.trial.FrozenTrial]:
    if not _schema_ready(db):  # opening it earlier would race the run creating optuna's tables
        return []
    try:
        storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    except sqlalchemy.exc.OperationalError:  # locked by the run's write right now
        return []
    try:
        study_id = storage.get_study_id_from_name("sunset-slider")
    except KeyError:
        return []
    finally:
        storage.engine.dispose()
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    try:
        return waiting_trials(storage, study_id)
    finally:
        storage.engine.dispose()


def test_run_rated_over_http_until_n_trials(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(tmp_path, "n_trials=6", f"dashboard.port={port}")
    try:
        rated = 0
        while rated < 6:
            waiting = _wait_for(lambda: _waiting(tmp_path / "hitl.db"), what="a waiting trial")
            assert len(waiting) <= 4
            assert _tell(port, waiting[0]._trial_id, float(1 + rated % 10)) == 200  # the default slider: 1..10
            rated += 1
            if rated < 3:  # the loop refills to the full batch after a rating
                _wait_for(lambda: len(_waiting(tmp_path / "hitl.db")) == 4, what="the refill")
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert f"rate the trials at http://127.0.0.1:{port}/dashboard/studies/1/trials" in out
    assert "n_trials reached: 6 rating(s) in study 'sunset-slider'" in out
    assert "best: trial" in out and f"database: sqlite:///{tmp_path / 'hitl.db'}" in out
    assert re.search(r"waiting \d \| rated \d/6", out)  # progress is shown while it runs
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    trials = optuna.load_study(study_name="sunset-slider", storage=storage).trials
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 6
    assert (tmp_path / "artifacts").is_dir() and (tmp_path / "outputs").is_dir()


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(tmp_path, f"dashboard.port={port}")
    try:
        first = _wait_for(lambda: len(_waiting(tmp_path / "hitl.db")) == 4 and _waiting(tmp_path / "hitl.db"),
                          what="4 waiting trials")
        assert _tell(port, first[0]._trial_id, 7.0) == 200
        _wait_for(lambda: len(_waiting(tmp_path / "hitl.db")) == 4, what="the refill")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "stopped: 1 rating(s) in study 'sunset-slider', 4 still waiting" in out
    before = sorted(t.number for t in _waiting(tmp_path / "hitl.db"))
    again = subprocess.run(RUN + ["timeout=1", f"dashboard.port={port}"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming study 'sunset-slider'" in again.stdout
    assert "adopted 4 trial(s) still awaiting rating" in again.stdout
    assert sorted(t.number for t in _waiting(tmp_path / "hitl.db")) == before


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        (["batch=0"], 2, ["error: batch=0: must be at least 1"]),
        (["widget=choice", "widget.objectives.0.widget.values=[1,2]"], 2, ["3 choices but 2 values"]),
        (["storage.url=postgresql+psycopg2://bob:hunter2@127.0.0.1:1/x"], 2, ["bob:***@127.0.0.1:1/x"]),
        (["batchh=3"], 2, ["error: batchh: not a hitl setting; did you mean batch?"]),
        (["+batchh=3"], 2, ["error: batchh: not a hitl setting; did you mean batch?"]),  # never accepted
        (["sampler=nope"], 2, ["error: sampler=nope: no such option; pick one of auto, compare, gp, ideal, localizer, preferential_gp, random, tpe"]),
        (["batch=many"], 2, ["error: batch=many:", "converted to Integer"]),
        (["generator.space.r.high=128"], 2, ["error: generator.space.r.high: not a setting here"]),
        (["dashboard.enabled=maybe"], 2, ["error: dashboard.enabled=maybe:", "not a valid bool"]),
        (["experiment=tutorial"], 2, ["error: experiment: options of this group are added, not swapped: "
                                      "use +experiment=tutorial"]),
    ],
)
def test_bad_input_exits_non_zero_with_a_clear_line(tmp_path: Path, overrides: list[str], code: int,
                                                    words: list[str]) -> None:
    res = subprocess.run(RUN + overrides + ["dashboard.enabled=false"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == code, res.stdout + res.stderr
    for word in words:
        assert word in res.stderr
    assert "hunter2" not in res.stdout + res.stderr
    assert not (tmp_path / "hitl.db").exists() and not (tmp_path / "artifacts").exists()
    if code == 2:
        assert len([line for line in res.stderr.splitlines() if line.strip()]) == 1, res.stderr


def test_a_refused_study_leaves_no_run_folder(tmp_path: Path) -> None:
    first = subprocess.run(RUN + ["widget=choice", "study_name=s", "timeout=0.5", "dashboard.enabled=false"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    runs = sorted((tmp_path / "outputs").glob("*/*"))
    before = (tmp_path / "hitl.db").read_bytes()
    res = subprocess.run(RUN + ["widget=slider", "study_name=s", "dashboard.enabled=false"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert [line for line in res.stderr.splitlines() if line.strip()] == [res.stderr.strip()]
    assert "study_name='s' exists with" in res.stderr
    assert sorted((tmp_path / "outputs").glob("*/*")) == runs  # no folder of Hydra's for the refused run
    assert (tmp_path / "hitl.db").read_bytes() == before


def test_help_lists_groups_and_cfg_job_prints_the_config(tmp_path: Path) -> None:
    res = subprocess.run(RUN + ["--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    listed = dict(line.split(": ", 1) for line in res.stdout.splitlines() if re.match(r"^[a-z]+: [a-z]", line))
    expected = {"sampler": {"auto", "compare", "gp", "ideal", "localizer", "preferential_gp", "random", "tpe"}, "storage": {"journal", "memory", "postgres", "sqlite"},
                "widget": {"choice", "slider", "text"}, "generator": {"color", "perceptual"}, "artifacts": {"filesystem", "s3"},
                "evaluator": {"human", "simulated"}, "experiment": {"tutorial", "slurm"}}
    for group, options in expected.items():
        assert options <= set(listed[group].split(", ")), (group, listed.get(group))
    res = subprocess.run(RUN + ["--cfg", "job", "widget=slider", "batch=8"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "batch: 8" in res.stdout and "SliderWidget" in res.stdout
    res = subprocess.run(RUN + ["--cfg", "job", "storage=postgres"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, env={**os.environ, "HITL_POSTGRES_URL": "x"})
    assert "${oc.env:HITL_POSTGRES_URL" in res.stdout  # never resolved into saved or printed configs


@pytest.mark.parametrize("overrides", [["widget=slider", "batch=8"], ["sampler=random", "seed=1"],
                                       ["storage=journal"], ["storage=memory"], ["widget=text"],
                                       ["widget=choice"], ["+experiment=tutorial"], ["sampler=gp"],
                                       ["generator=color", "generator.space.r.high=128"]])
def test_documented_overrides_run(tmp_path: Path, overrides: list[str]) -> None:
    res = subprocess.run(RUN + overrides + ["timeout=5", "dashboard.enabled=false"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    batch = 8 if "batch=8" in overrides else 4
    assert "timeout reached: 0 rating(s)" in res.stdout and f"{batch} still waiting" in res.stdout
    sampler = {"sampler=random": "RandomSampler", "sampler=gp": "UnrepeatingGPSampler", "+experiment=tutorial": "TPESampler",
               "generator=color": "IdealPointSampler"}
    named = [name for key, name in sampler.items() if key in overrides] or ["LocalizationSampler"]
    assert f"sampler: {named[0]}" in res.stdout  # which sampler runs is always logged


def test_help_shows_that_experiments_are_added_with_a_plus(tmp_path: Path) -> None:
    res = subprocess.run(RUN + ["--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "experiment: default," in res.stdout
    assert "An experiment is added with its +: +experiment=tutorial" in res.stdout
