"""A PostgreSQL password in storage.url, in every form SQLAlchemy takes, is written nowhere: not to the
terminal, run.log, .hydra/*.yaml, hitl_result.json, the sweep's files, the study names, nor the error line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import subprocess
import sys
import uuid

import optuna
import pytest
import sqlalchemy

from tests.conftest import PG_ADMIN_URL
from tests.conftest import ROOT


RUN = [sys.executable, str(ROOT / "run.py"), "evaluator=simulated", "poll_interval=0.05"]
PASSWORD = "Xy7Qk p@9vZw"  # a space and an @: percent-encoded in a URL
ENCODED = "Xy7Qk%20p%409vZw"
FRAGMENTS = ("Xy7Qk", "9vZw")  # any part of it, in any encoding


@pytest.fixture
def role_url(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A login role with PASSWORD owning the test's database: (role, host:port/database)."""
    role = f"hitl_secret_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    database = postgres_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        conn.exec_driver_sql(f'ALTER DATABASE "{database}" OWNER TO {role}')
    try:
        yield role, postgres_url.split("@", 1)[1]
    finally:
        owner = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with owner.connect() as conn:
            conn.exec_driver_sql(f"REASSIGN OWNED BY {role} TO postgres")
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
        owner.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{database}" OWNER TO postgres')
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def _leaks(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f in text]


def _files_with_secret(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and any(f.encode() in p.read_bytes() for f in FRAGMENTS)]


@pytest.mark.postgres
def test_a_run_writes_the_password_nowhere(role_url: tuple[str, str], tmp_path: Path) -> None:
    role, where = role_url
    url = f"postgresql+psycopg2://{role}:{ENCODED}@{where}"
    res = subprocess.run(RUN + ["n_trials=2", "batch=2", f"storage.url={url}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    assert f"{role}:***@{where}" in out  # the run did log its URL, masked
    assert _leaks(out) == []
    written = {p.name for p in tmp_path.rglob("*")}
    assert {"run.log", "config.yaml", "overrides.yaml", "hydra.yaml", "hitl_result.json"} <= written
    assert _files_with_secret(tmp_path) == []


@pytest.mark.postgres
def test_a_sweep_writes_the_query_password_nowhere(role_url: tuple[str, str], tmp_path: Path) -> None:
    role, where = role_url
    url = f"postgresql+psycopg2://{role}@{where}?password={ENCODED}"
    res = subprocess.run([*RUN[:2], "-m", *RUN[2:], "n_trials=1", "batch=1", "seed=1,2", f"storage.url='{url}'",
                          f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout + res.stderr
    assert "password=***" in out and _leaks(out) == []
    written = {p.name for p in tmp_path.rglob("*")}
    assert {"multirun.yaml", "hitl_result.json", "comparison.md"} <= written
    assert _files_with_secret(tmp_path) == []
    storage = optuna.storages.RDBStorage(url)
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    finally:
        storage.engine.dispose()
    assert len(names) == 2 and all(_leaks(n) == [] for n in names)


def test_the_error_line_masks_the_password(tmp_path: Path) -> None:
    # nothing listens there; the other forms' error lines are in tests/app/test_bad_input.py
    url = f"postgresql+psycopg2://u@127.0.0.1:1/db?password={ENCODED}&sslmode=disable"
    res = subprocess.run(RUN + [f"storage.url='{url}'"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    (line,) = [line for line in res.stderr.splitlines() if line.startswith("error: storage.url=")]
    assert "***" in line and _leaks(res.stdout + res.stderr) == [], line
    assert list(tmp_path.iterdir()) == []  # refused: nothing written, the run's folder removed


def test_a_flag_after_the_overrides_is_refused_with_the_password_masked(tmp_path: Path) -> None:
    url = f"postgresql+psycopg2://u@127.0.0.1:1/db?password={ENCODED}"
    res = subprocess.run(RUN + ["-m", f"storage.url='{url}'"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("error: unrecognized arguments: storage.url=") and len(res.stderr.splitlines()) == 1
    assert "password=***" in res.stderr and "go before the overrides" in res.stderr
    assert _leaks(res.stdout + res.stderr) == [] and list(tmp_path.iterdir()) == []
