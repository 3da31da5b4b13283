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
    (["generator._target_=no.such.Thing"], ["generator", "no.such.Thing"]),
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
