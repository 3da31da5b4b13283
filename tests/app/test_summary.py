"""What a run says about its best trials: a choice's label, every tied trial, the colour as sRGB hex;
and a simulated rater's run serves no dashboard unless asked."""

from __future__ import annotations

from collections.abc import Callable
import logging
import re

from omegaconf import DictConfig
import optuna
from optuna.trial import TrialState
import pytest

import hitl
from tests.conftest import compose_config
from tests.conftest import Rater
from tests.conftest import TUTORIAL


def test_a_choice_rating_is_named_by_its_label_and_ties_are_all_named(
    make_cfg: Callable[..., DictConfig], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hitl")
    cfg = make_cfg(TUTORIAL, "n_trials=5", "seed=0")
    storage = optuna.storages.RDBStorage(cfg.storage.url)
    with Rater(storage, "tutorial-choice", value=lambda p: 1.0 if p["r"] < 40 else -1.0):  # Good unless very dark red
        summary = hitl.run(cfg)
    rated = [t for t in optuna.load_study(study_name="tutorial-choice", storage=storage).trials
             if t.state == TrialState.COMPLETE]
    tied = tuple(t.number for t in rated if t.values[0] == -1.0)
    assert len(tied) > 1, "the seed should give a tie for best; pick another"
    assert (summary.best_numbers, summary.best_number, summary.best_label) == (tied, tied[0], "Good 👍")
    r, g, b = (rated[tied[0]].params[c] for c in "rgb")
    assert summary.best_colour == f"#{r:02x}{g:02x}{b:02x}"
    others = ", ".join(map(str, tied[1:]))
    assert f"best: trial {tied[0]} rated Good 👍 (r={r}, g={g}, b={b}; sRGB {summary.best_colour}); tied with " \
           f"trial{'s' if len(tied) > 2 else ''} {others}" in caplog.text
    assert re.search(r"\| best Good 👍 \(trials \d+(, \d+)+\)", caplog.text)  # the progress line names every tie
    assert not re.search(r"best -?1 \(trial", caplog.text)  # never the bare value of a choice


def test_a_slider_rating_reads_as_its_number_with_the_perceptual_colour(make_cfg: Callable[..., DictConfig]) -> None:
    summary = hitl.run(make_cfg("evaluator=simulated", "n_trials=4", "seed=0"))
    assert summary.best_label == f"{summary.best_value:g}"
    assert re.fullmatch(r"#[0-9a-f]{6}", summary.best_colour or "")


def test_the_dashboard_follows_the_rater_unless_set() -> None:
    assert compose_config([]).dashboard.enabled is True  # people rate in it
    assert compose_config(["evaluator=simulated"]).dashboard.enabled is False  # nobody needs to
    assert compose_config(["evaluator=simulated", "dashboard.enabled=true"]).dashboard.enabled is True  # to watch
