"""Shared fixtures: composing the real conf/ in temp dirs, a per-test PostgreSQL database,
free ports, and a simulated rater that tells trials the way the dashboard does."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import os
from pathlib import Path
import socket
import threading
import uuid
from typing import Any

from hydra import compose
from hydra import initialize_config_dir
from omegaconf import DictConfig
import optuna
from optuna.trial import TrialState
import pytest

import hitl
from hitl.queue import READY_ATTR


ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
IN_CI = os.environ.get("CI") == "true"
TUTORIAL = "+experiment=tutorial"  # the Optuna Dashboard tutorial's setup: TPE, choice, r/g/b
PG_ADMIN_URL = os.environ.get("HITL_TEST_POSTGRES_ADMIN", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

hitl.register_configs()


def need(reason: str) -> None:
    """Skip on a user's machine that lacks a service; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def compose_config(overrides: list[str] | None = None) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides or []))


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose conf/ with storage and artifacts in tmp_path and the dashboard off, plus overrides."""

    def make(*overrides: str) -> DictConfig:
        base = ["dashboard.enabled=false", "poll_interval=0.05"]
        if not any(o.startswith("artifacts=") for o in overrides):
            base.append(f"artifacts.base_path={tmp_path / 'artifacts'}")
        if not any(o.startswith(("storage=", "storage.url=")) for o in overrides):
            base.append(f"storage.url=sqlite:///{tmp_path / 'hitl.db'}")
        # later overrides win, so a test may replace any of the above
        return compose_config(base + list(overrides))

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waiting_trials(storage: optuna.storages.BaseStorage, study_id: int) -> list[optuna.trial.FrozenTrial]:
    running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
    return [t for t in running if READY_ATTR in t.system_attrs]


class Rater:
    """A simulated person: rates every waiting trial through the storage, as the tell API does.

    Args:
        storage: The study's storage.
        study_name: Which study to rate.
        value: Rating for a trial's params (default: 0).
        delay: Seconds between looks at the queue.
    """

    def __init__(self, storage: optuna.storages.BaseStorage, study_name: str,
                 value: Callable[[dict], float] = lambda p: 0.0, delay: float = 0.02) -> None:
        self.storage, self.study_name, self.value, self.delay = storage, study_name, value, delay
        self.rated: list[int] = []
        self.max_waiting = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Rater:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                study_id = self.storage.get_study_id_from_name(self.study_name)
            except KeyError:
                self._stop.wait(self.delay)
                continue
            waiting = waiting_trials(self.storage, study_id)
            self.samples.append(len(waiting))
            self.max_waiting = max(self.max_waiting, len(waiting))
            for t in waiting[:1]:  # one rating per look, like a person
                self.storage.set_trial_state_values(t._trial_id, TrialState.COMPLETE, [self.value(t.params)])
                self.rated.append(t.number)
            self._stop.wait(self.delay)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        need("psycopg2 is not installed: pip install -e '.[test]'")
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure means no server to test against
        admin.dispose()
        need(f"no PostgreSQL at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    name = f"hitl_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian chromium for a test module (tests/_browser.py); closed, with its processes, after it."""
    from _browser import chromium  # noqa: PLC0415 - playwright only where a test drives a browser
    from _browser import missing  # noqa: PLC0415

    reason = missing()
    if reason is not None:
        need(reason)
    with chromium() as b:
        yield b
