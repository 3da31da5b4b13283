"""Multirun sweeps as a user runs them: unattended with the simulated rater, and launchers."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

import optuna
from optuna.trial import TrialState
import pytest

from tests.conftest import free_port
from tests.conftest import ROOT


RUN = [sys.executable, str(ROOT / "run.py")]


def _studies(db: Path) -> dict[str, list[optuna.trial.FrozenTrial]]:
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    try:
        return {s.study_name: optuna.load_study(study_name=s.study_name, storage=storage).trials
                for s in optuna.get_all_study_summaries(storage)}
    finally:
        storage.engine.dispose()


def test_unattended_sweep_writes_a_comparison(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = RUN + ["-m", "evaluator=simulated", "sampler=tpe,random", "seed=0,1", "n_trials=8",
                  "dashboard.enabled=false", "poll_interval=0.05", f"hydra.sweep.dir={sweep}"]
    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    studies = _studies(tmp_path / "hitl.db")
    assert len(studies) == 4
    for name, trials in studies.items():
        assert name.startswith("sunset-slider-simulated@") and ":" in name and "seed=" in name
        assert [t.state for t in trials].count(TrialState.COMPLETE) == 8
    table = (sweep / "comparison.md").read_text()
    rows = [line for line in table.splitlines() if "sampler=" in line]
    assert len(rows) == 2 and all("| 2 |" in row for row in rows), table
    assert (sweep / "comparison.png").stat().st_size > 10_000
    assert f"comparison written to {sweep / 'comparison.md'}" in res.stdout + res.stderr

    # the same sweep again, into the same folder: new studies, a comparison of its own jobs only
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_studies(tmp_path / "hitl.db")) == 8
    rows = (sweep / "comparison.md").read_text().splitlines()[2:]
    assert len(rows) == 2 and all(row.startswith("| evaluator=simulated,n_trials=8,sampler=") for row in rows)
    assert all("| 2 |" in row for row in rows)


def test_joblib_sweep_shares_one_dashboard_rated_over_http(tmp_path: Path) -> None:
    port = free_port()
    res = subprocess.run(
        RUN + ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "evaluator=simulated",
               "sampler=tpe,random", "n_trials=4", "dashboard.enabled=true", f"dashboard.port={port}", f"hydra.sweep.dir={tmp_path / 's'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert out.count(f"rate this sweep's studies at http://127.0.0.1:{port}/dashboard") == 1
    assert out.count(f"rate the trials at http://127.0.0.1:{port}/dashboard/studies/") == 2
    assert "is taken" not in out
    assert all(len([t for t in ts if t.state == TrialState.COMPLETE]) == 4
               for ts in _studies(tmp_path / "hitl.db").values())


def test_slurm_launcher_composes_with_shared_postgres(tmp_path: Path) -> None:
    res = subprocess.run(
        RUN + ["+experiment=slurm", "sampler=tpe", "--cfg", "hydra"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "HITL_POSTGRES_URL": "postgresql+psycopg2://u@db.cluster:5432/hitl"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher" in res.stdout
    job = subprocess.run(RUN + ["+experiment=slurm", "--cfg", "job", "--resolve"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HITL_POSTGRES_URL": "postgresql+psycopg2://u@db.cluster:5432/hitl"})
    assert job.returncode == 0, job.stderr
    assert "url: postgresql+psycopg2://u@db.cluster:5432/hitl" in job.stdout
    assert "enabled: false" in job.stdout


@pytest.mark.postgres
def test_submitit_jobs_run_the_same_code_on_shared_postgres(postgres_url: str, tmp_path: Path) -> None:
    """submitit's local executor runs each job in its own process, as SLURM would on a node."""
    res = subprocess.run(
        RUN + ["-m", "+experiment=slurm", "hydra/launcher=submitit_local", "evaluator=simulated",
               "sampler=tpe,random", "n_trials=4", f"hydra.sweep.dir={tmp_path / 's'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "HITL_POSTGRES_URL": postgres_url},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    storage = optuna.storages.RDBStorage(postgres_url)
    try:
        summaries = optuna.get_all_study_summaries(storage)
        assert len(summaries) == 2 and all(s.n_trials == 4 for s in summaries)
    finally:
        storage.engine.dispose()
    assert (tmp_path / "s" / "comparison.md").exists()
