"""The study lock lives beside the file it protects, on every file storage; a held lock is logged and
gives way to the run's timeout; a killed process's journal lock stalls nobody."""

from __future__ import annotations

from collections.abc import Callable
import fcntl
import os
from pathlib import Path
import time

from omegaconf import DictConfig
import optuna
import pytest

import hitl
from hitl.config import build_storage
from hitl.queue._claim import lock_path
from tests.conftest import compose_config


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_the_lock_file_is_beside_the_database_whatever_tmpdir(kind: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "elsewhere"))
    data = tmp_path / ("hitl.db" if kind == "sqlite" else "j.log")
    node = (compose_config([f"storage.url=sqlite:///{data}"]) if kind == "sqlite"
            else compose_config(["storage=journal", f"storage.log_storage.file_path={data}"])).storage
    assert lock_path(build_storage(node)) == Path(str(data) + ".hitl-lock")


def test_a_held_lock_is_logged_and_gives_way_to_the_timeout(make_cfg: Callable[..., DictConfig], tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    held = os.open(tmp_path / "hitl.db.hitl-lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # another process holding it (a separate open file: same as one)
    try:
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="hitl"):
            summary = hitl.run(make_cfg("timeout=3", "sampler=random", "results=false"))
        took = time.monotonic() - started
    finally:
        os.close(held)
    assert summary.reason == "timeout" and took < 6, took
    assert "for the study lock" in caplog.text and "hitl.db.hitl-lock" in caplog.text


def test_a_stale_journal_lock_of_a_killed_process_stalls_nobody(tmp_path: Path) -> None:
    journal = tmp_path / "j.log"
    journal.touch()
    os.symlink(journal, str(journal) + ".lock")  # what optuna's lock leaves when its holder is killed
    storage = build_storage(compose_config(["storage=journal", f"storage.log_storage.file_path={journal}"]).storage)
    started = time.monotonic()
    study = optuna.create_study(storage=storage, study_name="s")
    study.enqueue_trial({"x": 1.0})
    assert time.monotonic() - started < 5  # optuna's own lock waits out a 30 s grace period
    assert not os.path.lexists(str(journal) + ".lock")
