"""A sweep's study names, derived from each job's overrides, hold whatever the overrides hold."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

import optuna

from hitl.app._study import check_study_name
from tests.conftest import ROOT


RUN = [sys.executable, str(ROOT / "run.py"), "-m", "evaluator=simulated", "n_trials=1", "batch=1",
       "dashboard.enabled=false", "poll_interval=0.05", "results=false"]


def test_paths_odd_characters_and_long_values_in_overrides_make_valid_distinct_names(tmp_path: Path) -> None:
    # two values alike in their first 350 characters: a cut name must still tell them apart
    long_a, long_b = "q" * 399 + "a", "q" * 399 + "b"
    res = subprocess.run(RUN + [f"question='../café/x',{long_a},{long_b}", f"hydra.sweep.dir={tmp_path / 's'}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "error:" not in out and "Traceback" not in out
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    finally:
        storage.engine.dispose()
    assert len(names) == 3 == len(set(names))
    for name in names:
        check_study_name(name)  # raises on a name hitl would refuse
        assert name.startswith("sunset-slider-simulated@")
    (short,) = [n for n in names if ":#0:" in n]
    assert "question=_.__caf__x_" in short  # readable: what the job ran is still there
    cut = [n for n in names if ":#0:" not in n]
    assert all(len(n) <= 300 and "qqqq" in n for n in cut)
    heads = {re.sub(r":#\d:", ":#", n)[:279] for n in cut}  # the job numbers aside
    assert len(heads) == 1 and cut[0][-12:] != cut[1][-12:]  # the same cut, another hash


def test_a_study_name_the_user_set_is_checked_as_typed(tmp_path: Path) -> None:
    res = subprocess.run(RUN + ["study_name=a/b", "seed=1,2", f"hydra.sweep.dir={tmp_path / 's'}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "error: study_name='a/b': use letters" in res.stderr  # not a name derived from it
    assert not (tmp_path / "hitl.db").exists()
