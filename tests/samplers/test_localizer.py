"""The localization sampler and the perceptual colour generator: dedupe, what is stored, speed, efficiency."""

from __future__ import annotations

from collections import deque
import importlib.util
import statistics
import sys
import time

import numpy as np
import optuna
from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
from optuna_dashboard import register_objective_form_widgets
import pytest

from hitl import colorimetry
from hitl.config import build
from hitl.generators import ColorGenerator
from hitl.generators.perceptual import PerceptualColorGenerator
from hitl.samplers import LocalizationSampler
from tests.conftest import compose_config
from tests.conftest import ROOT


optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {"L": {"low": 0.0, "high": 100.0}, "a": {"low": -41.0, "high": 46.0}, "b": {"low": -41.0, "high": 45.0}}


def _bench():
    """The fast benchmark harness (shares its targets and protocol with these tests)."""
    spec = importlib.util.spec_from_file_location("sample_efficiency_fast", ROOT / "benchmarks" / "sample_efficiency_fast.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _study(sampler: optuna.samplers.BaseSampler, widget: str = "choice") -> optuna.Study:
    if widget == "slider":
        study = optuna.create_study(direction="maximize", sampler=sampler)
        register_objective_form_widgets(study, widgets=[SliderWidget(min=1, max=10, step=1)])
    else:
        study = optuna.create_study(direction="minimize", sampler=sampler)
        register_objective_form_widgets(study, widgets=[ChoiceWidget(choices=["Good", "So-so", "Bad"], values=[-1, 0, 1])])
    return study


def _shown_colours(generator, sampler, n: int, value: float, batch: int = 4) -> list[tuple[int, int, int]]:
    """Keep ``batch`` trials waiting, rate the oldest ``value`` each time; return each trial's colour."""
    study = _study(sampler)
    waiting: deque = deque()
    colours = []

    def ask() -> None:
        trial = study.ask()
        params = generator.suggest(trial)
        colours.append(tuple(int(round(params[c])) for c in "rgb") if isinstance(generator, ColorGenerator)
                       else generator.rgb(params))
        waiting.append(trial)

    for _ in range(batch):
        ask()
    while len(colours) < n:
        study.tell(waiting.popleft(), value)
        ask()
    return colours


def test_never_shows_a_colour_already_rated_or_waiting() -> None:
    # A box so small it holds only 37 distinct sRGB colours, and a rater who likes everything:
    # the sampler keeps wanting the same spot, yet each picture must be new.
    tiny = {"L": {"low": 50.0, "high": 51.5}, "a": {"low": 0.0, "high": 1.0}, "b": {"low": 0.0, "high": 1.0}}
    generator = PerceptualColorGenerator(space=tiny, width=2, height=2)
    colours = _shown_colours(generator, LocalizationSampler(output=generator, seed=0), n=30, value=-1)
    assert len(set(colours)) == len(colours) == 30


def test_dedupes_integer_parameters_without_an_output_model() -> None:
    generator = ColorGenerator(space={c: {"low": 0, "high": 2} for c in "rgb"}, width=2, height=2)
    colours = _shown_colours(generator, LocalizationSampler(seed=1), n=27, value=0)
    assert len(set(colours)) == 27  # every one of the 27 colours once


def test_stored_params_are_the_colour_shown() -> None:
    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    study = _study(LocalizationSampler(output=generator, seed=2))
    for value in (1, 0, 1, -1, 0, 1):
        trial = study.ask()
        params = generator.suggest(trial)
        shown = colorimetry.lab_to_din99o(colorimetry.srgb_to_lab(generator.rgb(params)))
        np.testing.assert_allclose([params[k] for k in "Lab"], shown, atol=1e-6)
        study.tell(trial, value)
    assert study.trials[0].params  # the very first trial is placed by the sampler, from the generator's space


def test_out_of_gamut_params_keep_hue_and_lightness() -> None:
    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    vivid = np.array([[60.0, 45.0, 40.0]])  # beyond sRGB: shown less saturated, same hue and lightness
    shown = generator.shown_points(["L", "a", "b"], vivid)[0]
    assert abs(shown[0] - 60.0) < 0.5
    assert abs(np.arctan2(shown[2], shown[1]) - np.arctan2(40.0, 45.0)) < 0.02
    assert np.hypot(shown[1], shown[2]) < np.hypot(45.0, 40.0)
    rgb = generator.rgb({"L": 60.0, "a": 45.0, "b": 40.0})
    assert all(0 <= c <= 255 for c in rgb)


def test_ask_time_at_100_trials(capsys: pytest.CaptureFixture[str]) -> None:
    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    sampler = LocalizationSampler(output=generator, seed=3)
    study = _study(sampler, "slider")
    rng = np.random.default_rng(0)
    waiting: deque = deque()
    times = []
    for n in range(104):
        start = time.perf_counter()
        trial = study.ask()
        generator.suggest(trial)
        if n >= 100:
            times.append(time.perf_counter() - start)
        waiting.append(trial)
        if len(waiting) == 4:
            study.tell(waiting.popleft(), float(rng.integers(1, 11)))
    with capsys.disabled():
        print(f"\nLocalizationSampler ask + suggest at 100 trials: median {1000 * statistics.median(times):.1f} ms "
              f"(max {1000 * max(times):.1f} ms over {len(times)} asks)")
    assert len(study.trials) == 104


def test_reaches_the_target_in_fewer_ratings_than_random() -> None:
    bench = _bench()
    targets, seeds = bench.SUNSET_TARGETS[:3], range(2)
    ours = [bench.run_once(bench.CONFIGS["recommended"], t, s).ratings for t in targets for s in seeds]
    random = [bench.run_once(bench.CONFIGS["random"], t, s).ratings for t in targets for s in seeds]
    assert statistics.median(ours) < 15
    assert statistics.mean(ours) < statistics.mean(random) / 2


def test_options_compose_into_a_sampler_that_reads_the_generator() -> None:
    cfg = compose_config(["sampler=localizer", "generator=perceptual", "widget=slider", "seed=5"])
    sampler = build(cfg.sampler, "sampler")
    assert isinstance(sampler, LocalizationSampler)
    assert isinstance(sampler.output, PerceptualColorGenerator)
    assert isinstance(build(cfg.generator, "generator"), PerceptualColorGenerator)


def test_bad_settings_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="radius"):
        LocalizationSampler(radius=0)
    with pytest.raises(ValueError, match="span"):
        LocalizationSampler(span=(0.5, 0.1))
    with pytest.raises(Exception, match="lacks"):
        PerceptualColorGenerator(space={"L": {"low": 0.0, "high": 100.0}})


def test_neighbour_sums_match_the_dense_computation() -> None:
    from hitl.samplers._localizer._state import Neighbours as _Neighbours  # noqa: PLC0415 - the private helper under test
    from hitl.samplers._localizer._measure import squared_distances  # noqa: PLC0415

    rng = np.random.default_rng(3)
    z, weights = rng.random((1500, 3)), rng.random(1500)
    near = _Neighbours.within(lambda rows, cols: np.sqrt(squared_distances(z[rows], z[cols])), len(z), 0.1)
    dense = (squared_distances(z, z) < 0.1**2).astype(float) @ weights
    assert np.allclose(near.sums(weights), dense)
    assert (np.diff(near.start) >= 1).all()  # every point is its own neighbour: no empty row


def test_perceptual_generator_measures_colour_differences_as_ciede2000() -> None:
    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    names = ["L", "a", "b"]
    a, b = np.array([[60.0, 30.0, 25.0], [45.0, -10.0, 5.0]]), np.array([[62.0, 28.0, 30.0]])
    lab = colorimetry.srgb_to_lab
    expected = [[float(colorimetry.delta_e_2000(lab(np.array(generator.rgb(dict(zip(names, p))), float)),
                                                 lab(np.array(generator.rgb(dict(zip(names, q))), float))))
                 for q in b] for p in a]
    assert np.allclose(generator.distances(names, a, b), expected, atol=1e-3)
    # columns follow the names given, whatever their order
    assert np.allclose(generator.distances(["b", "L", "a"], a[:, [2, 0, 1]], b[:, [2, 0, 1]]), expected, atol=1e-3)


def test_sampler_uses_the_output_model_measure_once_per_candidate_set() -> None:
    from hitl.samplers._localizer._measure import Measure  # noqa: PLC0415 - the private helper under test

    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    first, second = LocalizationSampler(output=generator, seed=0), LocalizationSampler(output=generator, seed=1)
    for sampler in (first, second):
        study = _study(sampler, widget="slider")
        study.tell(study.ask(), 5)
        generator.suggest(study.ask())
    state = first._state
    assert isinstance(state.measure, Measure)
    assert state.measure._matrix is second._state.measure._matrix  # computed once, shared
    rows, cols = np.arange(0, 40), np.arange(100, 160)
    values = state.measure._values
    expected = generator.distances(["L", "a", "b"], values[rows], values[cols]) / 100.0  # widest range: L's 100
    assert np.allclose(state.measure.between(rows, cols)[0], expected, atol=2e-3)  # metric 0: the model's own
    assert np.allclose(state.measure.to_candidates(state.z[rows])[0][:, cols], expected, atol=1e-5)
    # the other metrics weigh lightness, chroma and hue as some people do
    parts = generator.distance_parts(["L", "a", "b"], values[rows], values[cols]) / 100.0**2
    weights = state.measure.weights
    assert len(weights) == 19 and np.all(weights[0] == 1.0)
    assert np.allclose(np.log(weights).sum(axis=1), 0.0)  # up to a common factor, which the span absorbs
    for m in (1, 7, 18):
        seen = np.sqrt(np.maximum(parts @ weights[m], 0.0))
        assert np.allclose(state.measure.between(rows, cols)[m], seen, atol=2e-3)
        assert np.allclose(state.measure.to_candidates(state.z[rows])[m][:, cols], seen, atol=1e-5)


@pytest.mark.parametrize(("k_l", "k_h", "sees_lightness_less"), [(1.0, 1.0, False), (3.333, 0.333, True)])
def test_learns_how_a_person_weighs_lightness_against_hue(k_l: float, k_h: float, sees_lightness_less: bool) -> None:
    # A person who counts hue 3x and lightness 0.3x (CIEDE2000's k_h, k_l): the posterior moves
    # to the metrics that weigh lightness below hue; for the standard observer it does not.
    generator = PerceptualColorGenerator(space=SPACE, width=2, height=2)
    sampler = LocalizationSampler(output=generator, seed=0)
    study = _study(sampler, "slider")
    target = colorimetry.srgb_to_lab(np.array([250.0, 94.0, 35.0]))
    rng = np.random.default_rng(1)
    waiting: deque = deque()
    for _ in range(30):
        trial = study.ask()
        waiting.append((trial, generator.suggest(trial)))
        if len(waiting) == 4:
            trial, params = waiting.popleft()
            seen = colorimetry.srgb_to_lab(np.array(generator.rgb(params), dtype=float))
            d = float(colorimetry.delta_e_2000(seen, target, k_l=k_l, k_h=k_h)) + rng.normal(0.0, 2.0)
            study.tell(trial, float(np.clip(round(10 - 9 * d / 40), 1, 10)))
    state = sampler._state
    dropped = np.setdiff1d(np.arange(state.model.size), state.alive)
    assert len(dropped) > state.model.size // 4 and np.all(np.isneginf(state.log_lik[dropped]))  # no longer updated
    joint = np.exp(state.log_lik - state.log_lik.max())
    per_metric = np.bincount(state.model.grid_m, weights=joint.sum(axis=1)) / joint.sum()
    weights = state.measure.weights  # columns: lightness, chroma, hue
    mass = per_metric[weights[:, 0] < weights[:, 2]].sum()
    print(f"posterior mass on metrics weighing lightness below hue: {mass:.2f}")
    assert mass > 0.8 if sees_lightness_less else mass < 0.4
