"""Several workers on one PostgreSQL study, kill -9 at random points, and a database outage."""

from __future__ import annotations

import json
import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import optuna
from optuna.trial import TrialState
import pytest

from hitl.queue import READY_ATTR
from tests.conftest import free_port
from tests.conftest import need
from tests.conftest import ROOT
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


RUN = [sys.executable, str(ROOT / "run.py")]


class _Worker:
    """``python run.py`` in the background, its log in a file (a pipe nobody reads would fill and block it)."""

    def __init__(self, cwd: Path, env: dict[str, str], *overrides: str) -> None:
        self.log = cwd / f"worker-{time.monotonic_ns()}.log"
        self._out = open(self.log, "w")
        self.proc = subprocess.Popen(RUN + list(overrides), cwd=cwd, env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT, text=True)

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """Wait until the log holds ``text`` (imports and config take a while)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker ended before logging {text!r}:\n{self.output()}")
            time.sleep(0.05)
        raise AssertionError(f"the worker did not log {text!r} in {timeout} s:\n{self.output()}")

    def started(self) -> str:
        return self.wait_for(" study '")

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no cleanup of any kind
        self.proc.wait()
        self._out.close()

    def stop(self, timeout: float = 30) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        return self.output()


def _tell(port: int, trial_id: int, value: float) -> bool:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/trials/{trial_id}/tell", method="POST",
        data=json.dumps({"state": "Complete", "values": [value]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status == 200
    except urllib.error.HTTPError:
        return False  # another rater was first: the dashboard refuses a second rating
    except (urllib.error.URLError, TimeoutError) as exc:
        raise AssertionError(f"the dashboard did not answer: {exc}") from exc


@pytest.mark.postgres
def test_four_workers_eight_raters_one_queue(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "HITL_POSTGRES_URL": postgres_url}
    common = [TUTORIAL, "storage=postgres", "study_name=shared", "batch=4", f"artifacts.base_path={tmp_path / 'a'}",
              "results=false", "poll_interval=0.1"]
    port = free_port()
    procs = [_Worker(tmp_path, env, *common, f"dashboard.port={port}")]
    procs += [_Worker(tmp_path, env, *common, "dashboard.enabled=false") for _ in range(3)]
    procs[0].wait_for(f"rate the trials at http://127.0.0.1:{port}/")  # raters need the dashboard up
    storage = optuna.storages.RDBStorage(postgres_url)
    told: dict[int, float] = {}
    refused = 0
    lock = threading.Lock()
    stop = threading.Event()
    samples: list[int] = []

    def sample_queue() -> None:
        while not stop.is_set():
            try:
                study_id = storage.get_study_id_from_name("shared")
                samples.append(storage.get_n_trials(study_id, state=TrialState.RUNNING))
            except KeyError:
                pass
            stop.wait(0.02)

    def rater(seed: int) -> None:
        nonlocal refused
        rng = random.Random(seed)
        while not stop.is_set():
            with lock:
                if len(told) >= 200:
                    return
            try:
                waiting = waiting_trials(storage, storage.get_study_id_from_name("shared"))
            except KeyError:
                waiting = []
            if not waiting:
                time.sleep(0.02)
                continue
            trial = rng.choice(waiting)
            value = float(rng.choice([-1, 0, 1]))
            if _tell(port, trial._trial_id, value):
                with lock:
                    assert trial._trial_id not in told, "the dashboard accepted a second rating"
                    told[trial._trial_id] = value
            else:
                with lock:
                    refused += 1

    threads = [threading.Thread(target=sample_queue)] + [threading.Thread(target=rater, args=(i,)) for i in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads[1:]:
            t.join(240)
        assert len(told) >= 200, f"only {len(told)} ratings in time"
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        outs = [p.stop() for p in procs]
    failed = [(i, p.proc.returncode, "\n".join(out.splitlines()[-40:])) for i, (p, out) in enumerate(zip(procs, outs))
              if p.proc.returncode != 0]
    assert not failed, "\n\n".join(f"worker {i} exited {code}; its last lines:\n{tail}" for i, code, tail in failed)
    study = optuna.load_study(study_name="shared", storage=storage)
    complete = {t._trial_id: t.values[0] for t in study.trials if t.state == TrialState.COMPLETE}
    assert complete == told  # zero lost, zero duplicate: exactly the accepted ratings, with their values
    assert max(samples) <= 4, f"queue above batch: max {max(samples)}"  # RUNNING <= batch at every sample
    running = [t for t in study.trials if t.state == TrialState.RUNNING]
    assert len(running) <= 4 and all(READY_ATTR in t.system_attrs for t in running)
    print(f"\n{len(told)} ratings, {refused} refused double ratings, {len(samples)} queue samples, max {max(samples)}")


def test_kill_9_at_random_points_loses_nothing(tmp_path: Path) -> None:
    overrides = [TUTORIAL, "dashboard.enabled=false", "results=false", "batch=3", "lease=1", "poll_interval=0.05",
                 "generator._target_=tests.slow.SlowColor", "+generator.seconds=0.15",
                 "artifacts._target_=tests.slow.SlowStore", "+artifacts.seconds=0.1"]
    db = tmp_path / "hitl.db"
    rng = random.Random(7)
    rated: dict[int, float] = {}
    # where the kills landed: a trial without params (mid-ask), one with params but without its
    # output stored (mid-render, -upload or -note), an uploaded file no trial records (mid-note)
    landed = {"mid-ask": 0, "mid-render/upload/note": 0, "file uploaded, note not stored": 0}
    for cycle in range(20):  # more kills, and on every storage: benchmarks/kill_workers.py
        worker = _Worker(tmp_path, dict(os.environ), *overrides)
        worker.started()
        time.sleep(rng.uniform(0.0, 1.5))
        worker.kill()
        storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
        try:
            study = optuna.load_study(study_name="tutorial-choice", storage=storage)
        except KeyError:
            storage.engine.dispose()
            continue
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if READY_ATTR not in t.system_attrs:
                landed["mid-render/upload/note" if t.params else "mid-ask"] += 1
        recorded = {json.loads(v)["artifact_id"] for t in study.get_trials(deepcopy=False)
                    for k, v in t.system_attrs.items() if k.startswith("artifacts:")}
        files = {f.name for f in (tmp_path / "artifacts").glob("*")} if (tmp_path / "artifacts").is_dir() else set()
        landed["file uploaded, note not stored"] = len(files - recorded)
        ready = waiting_trials(storage, study._study_id)
        if ready and cycle % 2 == 0:  # a person rates now and then between crashes
            trial = ready[0]
            storage.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, [float(cycle % 3 - 1)])
            rated[trial._trial_id] = float(cycle % 3 - 1)
        storage.engine.dispose()
    final = subprocess.run(RUN + overrides + ["timeout=3"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    study = optuna.load_study(study_name="tutorial-choice", storage=storage)
    complete = {t._trial_id: t.values[0] for t in study.trials if t.state == TrialState.COMPLETE}
    assert complete == rated  # every rating is still there
    running = study.get_trials(states=(TrialState.RUNNING,))
    assert len(running) == 3 and all(READY_ATTR in t.system_attrs for t in running)  # back at batch
    for t in running:  # each with its output and note
        (meta,) = [json.loads(v) for k, v in t.system_attrs.items() if k.startswith("artifacts:")]
        assert (tmp_path / "artifacts" / meta["artifact_id"]).stat().st_size > 0
    assert landed["mid-ask"] + landed["mid-render/upload/note"] >= 3, landed  # the kills did land mid-trial
    print(f"\nwhere the kills landed: {landed}; ratings kept: {len(rated)}")


def test_sigterm_at_random_points_leaves_a_consistent_study(tmp_path: Path) -> None:
    overrides = [TUTORIAL, "dashboard.enabled=false", "results=false", "batch=2",
                 "generator._target_=tests.slow.SlowColor", "+generator.seconds=0.3"]
    rng = random.Random(3)
    for _ in range(5):
        worker = _Worker(tmp_path, dict(os.environ), *overrides)
        worker.started()
        time.sleep(rng.uniform(0.0, 1.5))
        out = worker.stop(timeout=60)
        assert worker.proc.returncode == 0, out
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
        try:
            study = optuna.load_study(study_name="tutorial-choice", storage=storage)
            running = study.get_trials(states=(TrialState.RUNNING,))
            assert all(READY_ATTR in t.system_attrs for t in running), "a half-made trial after SIGTERM"
        except KeyError:
            pass
        finally:
            storage.engine.dispose()


@pytest.mark.postgres
def test_postgres_restart_under_a_running_loop(postgres_url: str, tmp_path: Path) -> None:
    if not os.environ.get("CI") and not os.environ.get("HITL_TEST_RESTART_POSTGRES"):
        pytest.skip("restarts the local PostgreSQL server: set HITL_TEST_RESTART_POSTGRES=1 (always on in CI)")
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    if not clusters or subprocess.run(["which", "pg_ctlcluster"], capture_output=True).returncode != 0:
        need("no local PostgreSQL cluster to restart (pg_ctlcluster)")
    version = clusters[-1].parent.name
    ctl = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    env = {**os.environ, "HITL_POSTGRES_URL": postgres_url}
    worker = _Worker(tmp_path, env, "storage=postgres", "evaluator=simulated", "evaluator.rater.delay=0.2",
                   "n_trials=40", "dashboard.enabled=false", "results=false", "poll_interval=0.1")
    try:
        storage = optuna.storages.RDBStorage(postgres_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if storage.get_n_trials(storage.get_study_id_from_name("sunset-slider-simulated"), state=TrialState.COMPLETE) >= 5:
                    break
            except KeyError:
                pass
            time.sleep(0.1)
        storage.engine.dispose()
        subprocess.run(ctl + ["stop", "-m", "fast"], check=True)
        time.sleep(10)  # unreachable for 10 s
        subprocess.run(ctl + ["start"], check=True)
        worker.proc.wait(180)
    finally:
        subprocess.run(ctl + ["start"], capture_output=True)  # whatever happened, leave it running
        out = worker.stop()
    assert worker.proc.returncode == 0, out
    assert "storage unreachable" in out and "retrying in" in out
    assert "n_trials reached: 40 rating(s)" in out
    storage = optuna.storages.RDBStorage(postgres_url)
    study = optuna.load_study(study_name="sunset-slider-simulated", storage=storage)
    assert len([t for t in study.trials if t.state == TrialState.COMPLETE]) == 40
    assert all(READY_ATTR in t.system_attrs for t in study.trials if t.state == TrialState.RUNNING)
    storage.engine.dispose()
