"""``timeout`` holds during a render far longer than it: ``python run.py`` ends on time, nothing half-made."""

from __future__ import annotations

from datetime import datetime
import os
from pathlib import Path
import re
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState

from tests.conftest import ROOT
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


RUN = [sys.executable, str(ROOT / "run.py"), TUTORIAL, "dashboard.enabled=false", "results=false",
       "generator._target_=tests.slow.SlowColor"]


def _logged_at(out: str, text: str) -> datetime:
    line = next((line for line in out.splitlines() if text in line), None)
    assert line is not None, f"no line with {text!r} in:\n{out}"
    return datetime.strptime(re.match(r"\[([^\]]+)\]", line).group(1), "%Y-%m-%d %H:%M:%S,%f")  # type: ignore[union-attr]


def test_timeout_ends_a_run_whose_render_takes_longer(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"  # where renders write: an abandoned render's folder must not stay
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    started = time.monotonic()
    res = subprocess.run(RUN + ["timeout=5", "+generator.seconds=60"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    out = res.stdout + res.stderr
    assert res.returncode == 0, out  # a timeout is a normal end
    assert took < 55, f"the run waited for the 60 s render ({took:.0f} s):\n{out}"
    loop_time = (_logged_at(out, "timeout reached: ") - _logged_at(out, "created study")).total_seconds()
    assert 4.5 <= loop_time <= 8, f"the loop ran {loop_time:.1f} s with timeout=5:\n{out}"
    assert "timeout reached while trial 0 was rendering" in out and "render abandoned" in out
    assert "Traceback" not in out
    assert list(scratch.iterdir()) == []

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    try:
        (trial,) = optuna.load_study(study_name="tutorial-choice", storage=storage).trials
        assert trial.state == TrialState.FAIL  # not left running, half-made, for the next run to wait on
        assert "abandoned" in trial.user_attrs["hitl:error"]
    finally:
        storage.engine.dispose()
    assert not (tmp_path / "artifacts").exists() or not any((tmp_path / "artifacts").iterdir())

    # the next run, with a quick render, fills the queue at once: nothing of the first run is in its way
    again = subprocess.run(RUN + ["timeout=3", "+generator.seconds=0.05"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    try:
        study = optuna.load_study(study_name="tutorial-choice", storage=storage)
        assert len(waiting_trials(storage, study._study_id)) == 4
        assert [t.state for t in study.trials].count(TrialState.FAIL) == 1
    finally:
        storage.engine.dispose()
