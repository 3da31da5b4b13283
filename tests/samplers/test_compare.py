"""ComparisonSampler: learns from choices of the worst, in N dimensions; never repeats an output; undo."""

from __future__ import annotations

import numpy as np
import optuna
from optuna_dashboard._preferential_history import NewHistory
from optuna_dashboard._preferential_history import remove_history
from optuna_dashboard._preferential_history import report_history
from optuna_dashboard.preferential import create_study
import pytest

from hitl.samplers import auto
from hitl.samplers import ComparisonSampler
from hitl.samplers._ideal._comparisons import ComparisonModel
from tests.samplers.test_ideal import Box


optuna.logging.set_verbosity(optuna.logging.WARNING)


def _choices_to_reach(sampler: optuna.samplers.BaseSampler, box: Box, ideal: np.ndarray, cap: int,
                      rng: np.random.Generator, batch: int = 4) -> int | None:
    """Keep ``batch`` candidates; a person chooses the worst by noisy distance (optuna-dashboard's
    ChooseWorst, as its page records it). Choices until a candidate lands within ``0.1 sqrt(d)``."""
    study = create_study(n_generate=batch, sampler=sampler)
    d = len(ideal)
    shown: dict[int, float] = {}
    for choices in range(cap + 1):
        while len(shown) < batch:
            trial = study.ask()
            params = box.suggest(trial)
            distance = float(np.linalg.norm(np.array([params[f"x{j}"] for j in range(d)]) - ideal))
            if distance < 0.1 * np.sqrt(d):
                return choices
            shown[trial.number] = distance
        numbers = list(shown)
        worst = numbers[int(np.argmax([shown[n] + rng.normal(0.0, 0.025 * np.sqrt(d)) for n in numbers]))]
        report_history(study._study._study_id, study._study._storage,
                       NewHistory(mode="ChooseWorst", candidates=numbers, clicked=worst))
        del shown[worst]
    return None


@pytest.mark.parametrize("dims", [4, 6])
def test_finds_the_ideal_from_comparisons_where_random_does_not(dims: int) -> None:
    reached, reached_random = [], []
    for seed in range(3):
        ideal = np.random.default_rng([seed, dims]).uniform(0.15, 0.85, dims)
        box = Box(dims=dims)
        reached.append(_choices_to_reach(ComparisonSampler(output=box, seed=seed, n_particles=1024), box, ideal, 40,
                                         np.random.default_rng(seed)))
        reached_random.append(_choices_to_reach(optuna.samplers.RandomSampler(seed=seed), box, ideal, 40,
                                                np.random.default_rng(seed)))
    assert all(r is not None for r in reached), reached
    assert sum(r is not None for r in reached_random) < sum(r is not None for r in reached), reached_random


def test_never_proposes_an_output_already_shown() -> None:
    """25 outputs (2 integer parameters of 5 values): the first 25 asks show each exactly once."""
    box = Box(dims=2, ints=4)
    study = create_study(n_generate=4, sampler=ComparisonSampler(output=box, seed=3, n_particles=256))
    shown, active = [], []
    for _ in range(25):
        trial = study.ask()
        params = box.suggest(trial)
        shown.append((params["x0"], params["x1"]))
        active.append(trial.number)
        if len(active) == 4:
            report_history(study._study._study_id, study._study._storage,
                           NewHistory(mode="ChooseWorst", candidates=list(active), clicked=active[0]))
            active.pop(0)
    assert len(set(shown)) == 25


def test_an_undone_choice_is_forgotten() -> None:
    box = Box(dims=2)
    sampler = ComparisonSampler(output=box, seed=0, n_particles=256)
    study = create_study(n_generate=2, sampler=sampler)
    numbers = []
    for _ in range(2):
        trial = study.ask()
        box.suggest(trial)
        numbers.append(trial.number)
    history = report_history(study._study._study_id, study._study._storage,
                             NewHistory(mode="ChooseWorst", candidates=numbers, clicked=numbers[0]))
    box.suggest(study.ask())
    assert len(sampler._state.model.pairs) == 1
    remove_history(study._study._study_id, study._study._storage, history)
    box.suggest(study.ask())
    assert len(sampler._state.model.pairs) == 0


def test_the_model_prefers_the_side_its_ideal_is_on() -> None:
    """Choices say outputs near 0.8 beat those near 0.2 on x0 (x1 is noise): the ideal moves there."""
    rng = np.random.default_rng(0)
    model = ComparisonModel(dims=2, rng=rng, n_particles=1024)
    better = np.column_stack([rng.uniform(0.7, 0.9, 30), rng.random(30)])
    worse = np.column_stack([rng.uniform(0.1, 0.3, 30), rng.random(30)])
    model.add_pairs(better, worse)
    ideal = model.ideals(model.draw(512)).mean(axis=0)
    assert ideal[0] > 0.6 and abs(ideal[1] - 0.5) < 0.2
    with pytest.raises(TypeError, match="add_pairs"):
        model.add(better, np.zeros(30, np.int64))


def test_auto_picks_the_comparison_sampler_for_comparisons() -> None:
    assert isinstance(auto(output=Box(dims=3), mode="preferential"), ComparisonSampler)
    assert not isinstance(auto(output=Box(dims=3)), ComparisonSampler)
