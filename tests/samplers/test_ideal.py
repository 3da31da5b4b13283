"""IdealPointSampler and the default's choice: finds the ideal in N dimensions, never repeats an output."""

from __future__ import annotations

from collections import deque
import logging
from pathlib import Path

import numpy as np
import optuna
from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
from optuna_dashboard import register_objective_form_widgets
import pytest

from hitl.generators import Generator
from hitl.generators import PhotoGenerator
from hitl.generators.perceptual import PerceptualColorGenerator
from hitl.samplers import auto
from hitl.samplers import IdealPointSampler
from hitl.samplers import LocalizationSampler
from hitl.samplers._ideal._model import IdealPointModel


optuna.logging.set_verbosity(optuna.logging.WARNING)


class Box(Generator):
    """``dims`` floats in 0..1 (or ints in 0..``ints``); renders nothing a test reads."""

    def __init__(self, *, dims: int, ints: int | None = None) -> None:
        spec = {"low": 0, "high": ints} if ints else {"low": 0.0, "high": 1.0}
        super().__init__(space={f"x{j}": dict(spec) for j in range(dims)})

    def render(self, params, directory: Path) -> Path:  # pragma: no cover - not rendered here
        raise NotImplementedError


def _slider_study(sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    register_objective_form_widgets(study, widgets=[SliderWidget(min=1, max=10, step=1)])
    return study


def _ratings_to_reach(sampler: optuna.samplers.BaseSampler, generator: Box, ideal: np.ndarray, cap: int,
                      rng: np.random.Generator, batch: int = 4) -> int | None:
    """Keep ``batch`` waiting; a person rates the oldest by its distance to ``ideal`` (slider, noise).

    Returns the number of ratings until one lands within ``0.1 * sqrt(d)`` of the ideal, or None.
    """
    study = _slider_study(sampler)
    d = len(ideal)
    worst, near = 0.5 * np.sqrt(d), 0.1 * np.sqrt(d)
    waiting: deque = deque()

    def ask() -> None:
        trial = study.ask()
        params = generator.suggest(trial)
        waiting.append((trial, np.array([params[f"x{j}"] for j in range(d)])))

    for _ in range(batch):
        ask()
    for rated in range(1, cap + 1):
        trial, x = waiting.popleft()
        distance = float(np.linalg.norm(x - ideal))
        seen = max(0.0, distance + rng.normal(0.0, 0.05 * worst))
        study.tell(trial, float(round(10 - 9 * min(1.0, seen / worst))))
        if distance < near:
            return rated
        ask()
    return None


@pytest.mark.parametrize("dims", [4, 6])
def test_finds_the_ideal_in_several_dimensions_where_random_does_not(dims: int) -> None:
    """Seeded: 3 hidden ideals; the sampler reaches each within a generous 45 ratings; random
    sampling, given the same budget, reaches fewer (the ball is under 2 % of the box in 4-D)."""
    reached, reached_random = [], []
    for seed in range(3):
        ideal = np.random.default_rng([seed, dims]).uniform(0.15, 0.85, dims)
        box = Box(dims=dims)
        reached.append(_ratings_to_reach(IdealPointSampler(output=box, seed=seed), box, ideal, 45,
                                         np.random.default_rng(seed)))
        reached_random.append(_ratings_to_reach(optuna.samplers.RandomSampler(seed=seed), box, ideal, 45,
                                                np.random.default_rng(seed)))
    assert all(r is not None for r in reached), reached
    assert sum(r is not None for r in reached_random) < 3, reached_random


def test_never_proposes_an_output_shown_or_waiting() -> None:
    """2 integer parameters of 5 values: 25 outputs; the first 25 asks show each exactly once."""
    box = Box(dims=2, ints=4)
    study = _slider_study(IdealPointSampler(output=box, seed=3))
    shown, waiting = [], deque()
    for _ in range(25):
        trial = study.ask()
        params = box.suggest(trial)
        shown.append((params["x0"], params["x1"]))
        waiting.append(trial)
        if len(waiting) == 4:
            study.tell(waiting.popleft(), 5.0)
    assert len(set(shown)) == 25


def test_outputs_equal_by_the_generators_keys_are_not_shown_twice() -> None:
    """A generator whose outputs depend on x0 rounded to tenths only: 11 distinct outputs."""

    class Coarse(Box):
        def output_keys(self, names, points):
            return np.rint(np.asarray(points)[:, [list(names).index("x0")]] * 10).astype(np.int64)

        def shown_points(self, names, points):
            points = np.array(points, dtype=float)
            points[:, list(names).index("x0")] = np.rint(points[:, list(names).index("x0")] * 10) / 10
            return points

    box = Coarse(dims=2)
    study = _slider_study(IdealPointSampler(output=box, seed=0))
    keys = []
    for _ in range(11):
        trial = study.ask()
        keys.append(round(box.suggest(trial)["x0"] * 10))
        study.tell(trial, 3.0)
    assert len(set(keys)) == 11


def test_choice_widget_categorical_and_multi_objective_studies_work() -> None:
    """Three levels from the choice widget; a categorical parameter is sampled at random; two
    objectives fall back to random sampling."""
    sampler = IdealPointSampler(seed=1)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    register_objective_form_widgets(study, widgets=[ChoiceWidget(choices=["Good", "So-so", "Bad"], values=[-1, 0, 1])])
    for i in range(12):
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_categorical("voice", ["a", "b"])
        study.tell(trial, -1 if abs(x - 0.3) < 0.1 else 0 if abs(x - 0.3) < 0.3 else 1)
    assert sampler._state is not None and sampler._state.model.count == 3
    two = optuna.create_study(directions=["maximize", "maximize"], sampler=IdealPointSampler(seed=1))
    two.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=3)
    assert len(two.trials) == 3


def test_the_model_learns_which_parameter_matters() -> None:
    """Ratings that depend on x0 only: the posterior weighs x0 far above x1 and x2."""
    rng = np.random.default_rng(0)
    model = IdealPointModel(dims=3, count=10, rng=rng)
    points = rng.random((60, 3))
    levels = np.clip(np.rint(9 * np.abs(points[:, 0] - 0.4) / 0.6), 0, 9).astype(int)
    for first in range(0, 60, 6):
        model.add(points[first:first + 6], levels[first:first + 6])
    log_w = model.draw(512)[:, 3:6]
    weights = np.exp(log_w - log_w.mean(axis=1, keepdims=True)).mean(axis=0)
    assert weights[0] > 2 * weights[1] and weights[0] > 2 * weights[2], weights
    assert abs(float(model.ideals(model.draw(512))[:, 0].mean()) - 0.4) < 0.1


def test_auto_picks_the_localizer_for_a_measured_colour_and_the_ideal_point_sampler_otherwise(
        caplog: pytest.LogCaptureFixture) -> None:
    colour = PerceptualColorGenerator(space={"L": {"low": 0.0, "high": 100.0}, "a": {"low": -41.0, "high": 46.0},
                                             "b": {"low": -41.0, "high": 45.0}})
    with caplog.at_level(logging.INFO, logger="hitl"):
        assert isinstance(auto(output=colour, seed=0), LocalizationSampler)
        photo = PhotoGenerator(space={"exposure": {"low": -1.0, "high": 1.0}, "gamma": {"low": 0.5, "high": 2.0}})
        assert isinstance(auto(output=photo, seed=0), IdealPointSampler)
        assert isinstance(auto(output=Box(dims=3), seed=0), IdealPointSampler)  # no measure of difference
    assert "LocalizationSampler (3 parameters" in caplog.text and "IdealPointSampler (2 parameters)" in caplog.text


@pytest.mark.parametrize("coupled", [True, False])
def test_the_model_holds_a_coupled_direction_only_where_the_ratings_call_for_it(coupled: bool) -> None:
    """Ratings that depend mostly on x0 + x1 (as a photo's exposure and gamma both brighten it):
    nearly every guess holds a coupled direction, and it points along (1, 1, 0, 0); ratings of a
    plain distance: nearly none holds one, from a prior of one half."""
    rng = np.random.default_rng(1)
    model = IdealPointModel(dims=4, count=10, rng=rng, coupling=0.5)
    points = rng.random((64, 4))
    delta = points - np.array([0.5, 0.4, 0.6, 0.5])
    squared = (delta ** 2).sum(axis=1)
    distance = np.sqrt((3 * (delta[:, 0] + delta[:, 1])) ** 2 + 0.3 * squared) if coupled else np.sqrt(squared)
    levels = np.clip(np.rint(9 * distance / distance.max()), 0, 9).astype(int)
    for first in range(0, 64, 8):
        model.add(points[first:first + 8], levels[first:first + 8])
    theta = model.draw(1024)
    share = float(theta[:, 15].mean())  # columns: ideal, log weights, span, curve, noise, u, its switch, coarse
    if not coupled:
        assert share < 0.2, share
        return
    assert share > 0.9, share
    u = theta[theta[:, 15] > 0.5][:, 11:15]
    cosine = np.abs(u @ np.array([1.0, 1.0, 0.0, 0.0])) / (np.sqrt(2) * np.linalg.norm(u, axis=1))
    assert float(np.median(cosine)) > 0.9, np.median(cosine)


@pytest.mark.parametrize("coarse", [True, False])
def test_the_model_reads_a_person_who_uses_only_some_levels_as_coarse(coarse: bool) -> None:
    """A person who gives only 1, 5 or 10 on a ten-level slider: nearly every guess reads their
    ratings as wide intervals between the levels used, and finds the ideal; a person who uses
    most levels is read as closely as ever (where every level is used, the readings agree)."""
    rng = np.random.default_rng(2)
    model = IdealPointModel(dims=3, count=10, rng=rng, coarse=0.5)
    ideal = np.array([0.3, 0.6, 0.5])
    points = rng.random((72, 3))
    fine = np.clip(np.rint(9 * np.linalg.norm(points - ideal, axis=1) / 0.9), 0, 9)
    used = np.array([0, 5, 9])  # the slider's 10, 5 and 1
    levels = (used[np.argmin(np.abs(fine[:, None] - used[None, :]), axis=1)] if coarse else fine).astype(int)
    for first in range(0, 72, 8):
        model.add(points[first:first + 8], levels[first:first + 8])
    assert list(model.used) == ([0, 5, 9] if coarse else sorted(set(levels.tolist()) | {0, 9}))
    theta = model.draw(1024)
    share = float(theta[:, 3 * 3 + 4].mean())  # the coarse reading's switch
    if coarse:
        assert share > 0.9, share
        assert np.linalg.norm(model.ideals(theta).mean(axis=0) - ideal) < 0.1
    else:
        assert np.linalg.norm(model.ideals(theta).mean(axis=0) - ideal) < 0.05


def test_the_model_measures_in_the_generators_features_when_it_has_them() -> None:
    """Outputs that depend on the parameters through a mixing map (two parameters acting almost
    as one, as a photo's exposure and gamma): with the map as the generator's features, 48
    ratings place the ideal's output several times closer than measuring in the parameters."""
    mixing = np.array([[3.0, 2.9, 0.0, 0.0], [0.0, 0.3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.9, 0.2]])

    def features(z: np.ndarray) -> np.ndarray:
        return np.asarray(z) @ mixing.T

    ideal = np.array([0.4, 0.55, 0.3, 0.6])
    errors = {}
    for name, measure in (("features", features), ("parameters", None)):
        rng = np.random.default_rng(1)
        model = IdealPointModel(dims=4, count=10, rng=rng, features=measure)
        points = rng.random((48, 4))
        distance = np.linalg.norm(features(points) - features(ideal[None]), axis=1)
        levels = np.clip(np.rint(9 * distance / np.percentile(distance, 90)), 0, 9).astype(int)
        for first in range(0, 48, 8):
            model.add(points[first:first + 8], levels[first:first + 8])
        guess = model.ideals(model.draw(1024)).mean(axis=0)
        errors[name] = float(np.linalg.norm(features(guess[None]) - features(ideal[None])))
        if measure is not None:  # the guesses' features, kept across resampling and moves, are theirs
            assert np.allclose(model._theta_features, model._ideal_features(model.theta), atol=1e-5)
    assert errors["features"] < 0.1 and errors["features"] < errors["parameters"] / 3, errors


def test_the_sampler_hands_the_generators_features_to_the_model() -> None:
    photo = PhotoGenerator(space={"exposure": {"low": -1.0, "high": 1.0}, "gamma": {"low": 0.5, "high": 2.0}})
    sampler = IdealPointSampler(output=photo, seed=0)
    study = _slider_study(sampler)
    for _ in range(3):
        trial = study.ask()
        photo.suggest(trial)
        study.tell(trial, 5.0)
    trial = study.ask()
    photo.suggest(trial)
    model = sampler._state.model
    assert model.features is not None and model.coupling == 0.0
    z = np.array([[0.5, 0.5], [1.0, 0.0]])
    raw = np.array([[0.0, 1.25], [1.0, 0.5]])  # the same points in exposure and gamma
    assert np.allclose(model.features(z), photo.features(["exposure", "gamma"], raw), atol=1e-4)
