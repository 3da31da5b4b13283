"""The simulated judgement mapped onto every widget set, respecting direction."""

from __future__ import annotations

from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
from optuna_dashboard import TextInputWidget
import pytest

from hitl import Objective
from hitl.evaluators._judge import rate


CHOICE = Objective("q", "minimize", ChoiceWidget(choices=["Good", "So-so", "Bad"], values=[-1, 0, 1]))
SLIDER = Objective("q", "maximize", SliderWidget(min=1, max=10, step=1))
TEXT = Objective("q", "maximize", TextInputWidget())


@pytest.mark.parametrize(("distance", "value"), [(0, -1), (11.9, -1), (12, 0), (29.9, 0), (30, 1), (500, 1)])
def test_choice_bins(distance: float, value: float) -> None:
    assert rate(CHOICE, distance, thresholds=[12, 30], worst=60) == value


def test_choice_respects_a_maximized_direction() -> None:
    obj = Objective("q", "maximize", ChoiceWidget(choices=["Bad", "Good"], values=[0, 5]))
    assert rate(obj, 1, thresholds=[12], worst=60) == 5
    assert rate(obj, 40, thresholds=[12], worst=60) == 0


def test_more_choices_than_bins_spread_over_them() -> None:
    obj = Objective("q", "minimize", ChoiceWidget(choices=list("abcde"), values=[1, 2, 3, 4, 5]))
    assert [rate(obj, d, thresholds=[12, 30], worst=60) for d in (0, 20, 40)] == [1, 3, 5]


def test_slider_is_monotone_on_its_steps_and_follows_direction() -> None:
    values = [rate(SLIDER, d, thresholds=[12, 30], worst=60) for d in range(0, 80, 5)]
    assert values[0] == 10 and values[-1] == 1
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert all(v == int(v) for v in values)
    flipped = Objective("q", "minimize", SLIDER.widget)
    assert rate(flipped, 0, thresholds=[12, 30], worst=60) == 1


def test_text_scores() -> None:
    assert rate(TEXT, 12.5, thresholds=[12, 30], worst=60) == 87.5
    assert rate(TEXT, 150, thresholds=[12, 30], worst=60) == 0
    assert rate(Objective("q", "minimize", TextInputWidget()), 12.5, thresholds=[12], worst=60) == 12.5
