"""Bad input ends in one HitlError naming the key and the fix, with nothing written anywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import re
import socket
import sys

from omegaconf import DictConfig
import pytest

import hitl
from hitl.config import build
from tests.conftest import compose_config
from tests.conftest import need


def _snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


CASES = [
    # (overrides, words the message must hold)
    (["batch=0"], ["batch=0", "at least 1"]),
    (["n_trials=0"], ["n_trials=0"]),
    (["timeout=-1"], ["timeout=-1"]),
    (["dashboard.port=70000"], ["dashboard.port=70000"]),
    (["widget=choice", "widget.objectives.0.widget.values=[1,2]"], ["widget.objectives[0].widget", "3 choices but 2 values"]),
    (["widget.objectives.0.direction=up"], ["widget.objectives[0].direction", "minimize or maximize"]),
    (["widget.objectives.0.widget.min=10"], ["min=10", "below max"]),
    (["generator=color", "generator.space.r.low=300"], ["generator.space.r", "low=300"]),
    (["generator=color", "generator.space.r.high=999"], ["generator.space.r", "0..255"]),
    (["generator._target_=no.such.Thing"], ["generator._target_=no.such.Thing", "No module named 'no'", "PYTHONPATH"]),
    (["generator._target_=hitl.NoSuchGenerator"], ["generator._target_=hitl.NoSuchGenerator", "importable"]),
    (["sampler=tpe", "sampler.n_startup_trials=abc"], ["sampler"]),
    (["sampler=localizer", "+sampler.radius=-1"], ["sampler", "radius=-1"]),
    (["+sampler.radius=0.2"], ["sampler=auto takes no radius=0.2", "sampler=localizer"]),
    (["generator.space.L.high=120"], ["generator.space.L", "0..100"]),
    (["study_name=../../x"], ["study_name='../../x'", "no slashes"]),
    (["storage.url=postgresql+psycopg2://bob:hunter2@127.0.0.1:1/db"],
     ["storage.url=postgresql+psycopg2://bob:***@127.0.0.1:1/db", "HITL_POSTGRES_URL"]),
    (["storage.url=nosuchdb://x"], ["storage.url=nosuchdb://x"]),
    (["storage.url=sqlite:////nonexistent-dir/sub/hitl.db"], ["storage.url=sqlite:////nonexistent-dir/sub/hitl.db"]),
    (["storage.url=postgresql+psycopg2://nosuchuser:pw@127.0.0.1:5432/postgres"],
     ["nosuchuser:***@127.0.0.1:5432", "cannot open it"]),
    (["batch=-3"], ["batch=-3"]),
    (["poll_interval=0"], ["poll_interval=0"]),
    (["study_name="], ["study_name=''"]),
    (["study_name=a/b"], ["study_name='a/b'"]),
    (["widget.objectives.0.widget.step=-1"], ["step=-1", "positive"]),
    (["widget=choice", "widget.objectives.0.widget._target_=optuna.samplers.RandomSampler"],
     ["widget", "RandomSampler", "choices"]),
    (["widget=choice", "widget.objectives.0.widget.values=[a,b,c]"], ["every value must be a number"]),
    (["generator=color", "+generator.space.r.choices=[]"], ["generator.space.r.choices is empty"]),
    (["generator.width=0"], ["generator.width/height=0x240"]),
    (["evaluator=simulated", "evaluator.rater.thresholds=[30,12]"], ["evaluator.thresholds=[30, 12]", "increasing"]),
    (["evaluator=simulated", "evaluator.rater.scorer.target=[300,0,0]"], ["evaluator.scorer.target=[300, 0, 0]"]),
    (["dashboard.enabled=true", "dashboard.host=203.0.113.999"], ["dashboard.host=203.0.113.999"]),
    (["dashboard.enabled=true", "dashboard.host=192.0.2.1"], ["dashboard.host=192.0.2.1", "not an address of this machine"]),
    # issue 11: non-finite, absurd and out-of-range knobs
    *[([f"poll_interval={v}"], [f"poll_interval={v}", "positive seconds"]) for v in ("inf", "nan", "-inf", "1e+300", "-1")],
    *[([f"lease={v}"], [f"lease={v}", "at least 1"]) for v in ("nan", "inf", "1e-06", "0.5", "0", "-1")],
    *[([f"timeout={v}"], [f"timeout={v}", "positive seconds"]) for v in ("nan", "inf", "0", "1e+300")],
    (["batch=99999999999999999999"], ["batch=99999999999999999999", "at most 1000"]),
    (["batch=1001"], ["batch=1001", "at most 1000"]),
    (["poll_interval=1e9"], ["poll_interval=1000000000.0", "a week"]),
    (["lease=1e9"], ["lease=1000000000.0", "a week"]),
    (["n_trials=99999999999999999999"], ["n_trials=99999999999999999999"]),
    (["n_trials=-1"], ["n_trials=-1"]),
    (["seed=-1"], ["seed=-1", "0..4294967295"]),
    (["seed=4294967296"], ["seed=4294967296"]),
    (["dashboard.port=-1"], ["dashboard.port=-1"]),
    # unset environment variables, named with the key that uses them
    (["study_name=${oc.env:HITL_TEST_UNSET_VAR}"], ["study_name", "HITL_TEST_UNSET_VAR", "cannot be resolved"]),
    (["question=${oc.env:HITL_TEST_UNSET_VAR}"], ["question", "HITL_TEST_UNSET_VAR"]),
    (["storage.url=${oc.env:HITL_TEST_UNSET_VAR}"], ["storage.url", "HITL_TEST_UNSET_VAR"]),
    # study names: a fix for each
    (["study_name='café'"], ["study_name='café'", "'é' is not allowed", "study_name='caf_'"]),
    (["study_name='日本'"], ["study_name='日本'", "ASCII"]),
    (["study_name=a..b"], ["study_name='a..b'", "'..'"]),
    (["study_name=" + "x" * 301], ["study_name="]),
    # widgets
    (["widget.objectives.0.widget.step=1000"], ["widget.objectives[0].widget.step=1000", "at most max - min"]),
    (["widget.objectives.0.widget.max=inf"], ["widget.objectives[0].widget", "finite"]),
    (["widget=choice", "widget.objectives.0.widget.values=[1,2,nan]"], ["every value must be a finite number"]),
    (["widget.objectives.0.widget.step=0"], ["step=0", "positive"]),
    (["widget.objectives.0.direction=MAXIMIZE"], ["minimize or maximize"]),
    # the dashboard's address
    *[(["dashboard.enabled=true", f"dashboard.host={h}"], [f"dashboard.host={h}", "IPv6"]) for h in ("::1", "::", "fe80::1")],
    (["dashboard.enabled=true", "dashboard.host=no-such-host.invalid"], ["dashboard.host=no-such-host.invalid"]),
    # storages
    (["storage.url=sqlite://"], ["storage.url=sqlite://", "in-memory SQLite", "storage=memory"]),
    (["storage.url=sqlite:///:memory:"], ["storage.url=sqlite:///:memory:", "in-memory SQLite"]),
    (["storage.url='postgresql+psycopg2://bob@127.0.0.1:1/db?password=hunter2'"], ["password=***", "storage.url="]),
    (["storage.url='postgresql+psycopg2://bob:hunter2 x@127.0.0.1:1/db'"], ["bob:***@127.0.0.1:1/db"]),
    (["storage.url='postgresql+psycopg2://bob:hun%40ter2@127.0.0.1:1/db'"], ["bob:***@127.0.0.1:1/db"]),
    (["storage=journal", "storage.log_storage.file_path=/nonexistent-dir/sub/j.log"], ["storage"]),
    (["sampler=tpe", "seed=-5"], ["seed=-5"]),
    # more password forms; postgresql:// names the driver SQLAlchemy picks for it (psycopg 3), not psycopg2
    (["storage.url='postgresql://bob:hunter2@127.0.0.1:1/db'"], ["postgresql://bob:***@127.0.0.1:1/db", "(psycopg)",
                                                                 "postgresql+psycopg2://"]),
    (["storage.url='postgresql+psycopg2://bob@127.0.0.1:1/db?pwd=hunter2'"], ["pwd=***"]),
    (["storage.url='postgresql+psycopg2://bob@127.0.0.1:1/db?passwd=hunter2&sslmode=disable'"], ["passwd=***"]),
    (["storage.url='postgresql+psycopg2://bob@127.0.0.1:1/db?password=hunter2%20x%40y'"], ["password=***"]),
    (["storage.url='postgresql+psycopg2://bob:hunter2%20x%40y@127.0.0.1:1/db?sslmode=bogus'"],
     ["bob:***@127.0.0.1:1/db", "sslmode"]),
    (["storage.url='mysql://bob:hunter2@127.0.0.1:1/db'"], ["mysql://bob:***@", "(MySQLdb)", "mysqlclient"]),
]


@pytest.mark.parametrize(("overrides", "words"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(
    overrides: list[str], words: list[str], make_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    cfg = make_cfg(*overrides)
    before = _snapshot(tmp_path)
    with pytest.raises(hitl.HitlError) as info:
        hitl.run(cfg)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert "hunter2" not in message
    assert _snapshot(tmp_path) == before


def test_unwritable_artifact_dir(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    # /proc takes no new files, even from root (CI runs as root, which ignores permission bits)
    with pytest.raises(hitl.HitlError, match="artifacts.base_path=/proc/hitl-artifacts: /proc is not writable"):
        hitl.run(make_cfg("artifacts.base_path=/proc/hitl-artifacts"))
    assert not (tmp_path / "hitl.db").exists()


def test_a_non_loopback_dashboard_warns_that_it_has_no_authentication(
    make_cfg: Callable[..., DictConfig], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="hitl"):
        hitl.run(make_cfg("dashboard.enabled=true", "dashboard.host=0.0.0.0", "dashboard.port=0", "timeout=0.2"))
    assert "dashboard.host=0.0.0.0 is reachable from other machines" in caplog.text
    assert "no authentication" in caplog.text


def test_artifact_path_that_is_a_file(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(hitl.HitlError, match="artifacts.base_path=.*file"):
        hitl.run(make_cfg(f"artifacts.base_path={tmp_path / 'file' / 'sub'}"))


def test_reused_study_name_with_another_widget_set_is_refused(make_cfg: Callable[..., DictConfig]) -> None:
    hitl.run(make_cfg("timeout=0.2", "study_name=exp", "widget=choice"))
    with pytest.raises(hitl.HitlError, match=r"study_name='exp' exists with directions \['minimize'\]"):
        hitl.run(make_cfg("timeout=0.2", "study_name=exp", "widget=slider"))
    with pytest.raises(hitl.HitlError, match="exists with another widget set"):
        hitl.run(make_cfg("timeout=0.2", "study_name=exp", "widget=choice", "widget.objectives.0.widget.values=[-2,0,2]"))
    # a changed description is not another experiment
    hitl.run(make_cfg("timeout=0.2", "study_name=exp", "widget=choice", "widget.objectives.0.widget.description=Rate it"))


def test_a_taken_dashboard_port_moves_to_the_next_free_one(
    make_cfg: Callable[..., DictConfig], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level("INFO", logger="hitl"):
            hitl.run(make_cfg("dashboard.enabled=true", f"dashboard.port={port}", "timeout=0.5"))
    moved = re.search(rf"dashboard.port={port} is taken; serving on port (\d+) instead", caplog.text)
    assert moved is not None, caplog.text
    assert f"rate the trials at http://127.0.0.1:{moved.group(1)}/dashboard/studies/" in caplog.text


def test_reused_study_name_with_another_generator_is_refused(make_cfg: Callable[..., DictConfig]) -> None:
    hitl.run(make_cfg("timeout=0.2", "study_name=exp"))  # the perceptual colours: L, a, b floats
    with pytest.raises(hitl.HitlError) as info:
        hitl.run(make_cfg("timeout=0.2", "study_name=exp", "generator=color"))
    message = str(info.value)
    assert "study_name='exp' holds trials of other parameters (L float, a float, b float)" in message
    assert "(b int, g int, r int)" in message and "generator=" in message
    hitl.run(make_cfg("timeout=0.2", "study_name=exp", "generator.space.L.low=40"))  # other ranges are fine


def test_s3_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as on a machine without the s3 extra
    with pytest.raises(hitl.HitlError, match=r"artifacts=s3 needs boto3.*pip install -e '\.\[s3\]'"):
        build(compose_config(["artifacts=s3"]).artifacts, "artifacts")


def test_a_second_ctrl_c_is_one_line_and_status_130(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(cfg: DictConfig) -> None:
        raise KeyboardInterrupt  # what the second Ctrl-C raises in the middle of a step

    monkeypatch.setattr(hitl.app._main, "run", interrupted)
    with pytest.raises(SystemExit) as info:
        hitl.main(compose_config([]))
    assert info.value.code == 130
    err = capsys.readouterr().err
    assert err.startswith("stopped at once") and len(err.strip().splitlines()) == 1


def _corrupt(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)  # a header, then garbage


def _foreign(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER, title TEXT)")
    conn.close()


def _not_sqlite(path: Path) -> None:
    path.write_text("name,score\nx,1\n")


def _planted_link(path: Path) -> None:
    (path.parent / "victim").write_text("keep me")
    Path(str(path) + ".hitl-lock").symlink_to(path.parent / "victim")


FILE_CASES = [  # (what is in the way, words the message must hold)
    (_corrupt, ["is not a readable SQLite database", "move this one away"]),
    (_not_sqlite, ["is not a readable SQLite database"]),
    (_foreign, ["holds another program's tables (photos)", "a file of its own"]),
    (_planted_link, ["is a symbolic link", "never follows"]),
]
CASES_IN_ALL = len(CASES) + len(FILE_CASES)  # the table keeps growing: more than 80 cases


@pytest.mark.parametrize(("plant", "words"), FILE_CASES, ids=[c[0].__name__ for c in FILE_CASES])
def test_a_database_file_that_is_not_ours_is_refused_untouched(
    plant: Callable[[Path], None], words: list[str], make_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    db = tmp_path / "other.db"
    plant(db)
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()}
    listing = _snapshot(tmp_path)
    with pytest.raises(hitl.HitlError) as info:
        hitl.run(make_cfg(f"storage.url=sqlite:///{db}"))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"storage.url=sqlite:///{db}")
    for word in words:
        assert word in message
    assert _snapshot(tmp_path) == listing
    assert {p: p.read_bytes() for p in before} == before  # not a byte changed


def test_the_table_has_more_than_80_cases() -> None:
    assert CASES_IN_ALL > 80


def test_a_full_disk_is_named_as_such(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    import os
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        need("a full disk is simulated with a small tmpfs, which needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    try:
        (disk / "filler").write_bytes(b"\0" * (256 * 1024 - 4096 * 2))
        with pytest.raises(hitl.HitlError) as info:
            hitl.run(make_cfg(f"storage.url=sqlite:///{disk / 'hitl.db'}", "timeout=1"))
        message = str(info.value)
        assert f"the disk holding {disk / 'hitl.db'} (mounted at {disk}" in message and "is full" in message
        assert "point storage.url at a file on another disk" in message and "\n" not in message
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)  # lazy: an open SQLite handle may remain
