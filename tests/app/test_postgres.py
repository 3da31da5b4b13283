"""The loop against the real PostgreSQL server, one fresh database per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import subprocess
import sys

from omegaconf import DictConfig
import optuna
from optuna.trial import TrialState
import pytest

import hitl
from hitl.config import build_storage
from tests.conftest import Rater
from tests.conftest import ROOT
from tests.conftest import TUTORIAL


pytestmark = pytest.mark.postgres


def test_storage_option_reads_the_url_from_the_environment(
    postgres_url: str, make_cfg: Callable[..., DictConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_POSTGRES_URL", postgres_url)
    storage = build_storage(make_cfg(TUTORIAL, "storage=postgres").storage)
    assert isinstance(storage, optuna.storages.RDBStorage) and storage.url == postgres_url


def test_loop_on_postgres_batch_resume_and_stop(
    postgres_url: str, make_cfg: Callable[..., DictConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_POSTGRES_URL", postgres_url)
    cfg = make_cfg(TUTORIAL, "storage=postgres", "timeout=3")
    assert hitl.run(cfg).waiting == 4
    storage = build_storage(cfg.storage)
    first = [t.number for t in optuna.load_study(study_name="tutorial-choice", storage=storage).trials]
    with Rater(storage, "tutorial-choice", value=lambda p: -1.0 if p["r"] > 200 else 1.0, delay=0.1) as rater:
        summary = hitl.run(make_cfg(TUTORIAL, "storage=postgres", "n_trials=10"))
    assert summary.reason == "n_trials" and summary.rated == 10 and summary.waiting == 0
    assert rater.max_waiting <= 4
    trials = optuna.load_study(study_name="tutorial-choice", storage=storage).trials
    assert [t.number for t in trials][:4] == first and len(trials) == 10
    assert all(t.state == TrialState.COMPLETE for t in trials)


@pytest.mark.parametrize("mode", [[], ["-m"]], ids=["run", "sweep"])
def test_password_stays_out_of_logs_and_saved_configs(postgres_url: str, tmp_path: Path, mode: list[str]) -> None:
    # trust auth ignores the password, so the URL works and the run goes through; a sweep logs and
    # saves its overrides in Hydra's escaped form (postgresql\://postgres\:hunter2@...) too
    secret_url = postgres_url.replace("postgres@", "postgres:hunter2@")
    res = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *mode, f"storage.url={secret_url}", "storage=postgres",
         "timeout=0.5", "dashboard.enabled=false"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "postgres:***@" in res.stdout or "postgres\\:***@" in res.stdout
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".yaml", ".log")]
    assert any(p.name == "overrides.yaml" for p in written)
    for path in written:
        assert "hunter2" not in path.read_text(), path
    assert "hunter2" not in res.stdout + res.stderr
