"""Rater models that disagree with the sampler's: inconsistent (lapses) and coarse (few slider values)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
import pytest

import hitl
from hitl.evaluators import SimulatedRater


def _slider() -> hitl.WidgetSet:
    widget = SliderWidget(min=1, max=10, step=1, description="")
    return hitl.WidgetSet(name="slider", objectives=[hitl.Objective(name="q", direction="maximize", widget=widget)])


def _choice() -> hitl.WidgetSet:
    widget = ChoiceWidget(choices=["Good", "So-so", "Bad"], values=[-1, 0, 1], description="")
    return hitl.WidgetSet(name="choice", objectives=[hitl.Objective(name="q", direction="minimize", widget=widget)])


def _rater(distance: float, **knobs: object) -> SimulatedRater:
    return SimulatedRater(scorer=lambda path: distance, noise_sd=0.0, worst=60.0, seed=0, **knobs)


def test_a_steady_rater_follows_the_distance() -> None:
    assert _rater(0.0).judge(_slider(), Path("x"))[0] == [10.0]
    assert _rater(27.0).judge(_slider(), Path("x"))[0] == [6.0]


def test_lapses_are_random_answers_in_the_given_share() -> None:
    rater = _rater(0.0, lapse=0.3)
    ratings = [rater.judge(_slider(), Path("x"))[0][0] for _ in range(2000)]
    off = [r for r in ratings if r != 10.0]
    assert 0.22 < len(off) / len(ratings) < 0.3  # 30 % random, a tenth of which land on 10 anyway
    assert set(off) == set(range(1, 10))  # uniform over the slider's steps
    choices = Counter(rater.judge(_choice(), Path("x"))[0][0] for _ in range(600))
    assert set(choices) == {-1.0, 0.0, 1.0} and choices[-1.0] > 400
    assert all(rater.judge(_slider(), Path("x"))[1] == 0.0 for _ in range(5))  # the recorded distance stays exact


@pytest.mark.parametrize(("distance", "rating"), [(0.0, 10.0), (10.0, 10.0), (20.0, 5.0), (35.0, 5.0), (50.0, 1.0), (60.0, 1.0)])
def test_a_coarse_rater_uses_only_its_levels(distance: float, rating: float) -> None:
    assert _rater(distance, levels=[1, 5, 10]).judge(_slider(), Path("x"))[0] == [rating]


def test_coarse_levels_leave_choices_alone_and_bad_knobs_are_refused() -> None:
    assert _rater(20.0, levels=[1, 5, 10]).judge(_choice(), Path("x"))[0] == [0.0]
    with pytest.raises(hitl.HitlError, match="lapse"):
        _rater(0.0, lapse=1.5)
    with pytest.raises(hitl.HitlError, match="levels"):
        _rater(0.0, levels=[])
    with pytest.raises(hitl.HitlError, match="evaluator/scorer="):
        SimulatedRater()
