"""No output is shown twice: a repeated picture is never queued, the loop moves on, an exhausted space stops."""

from __future__ import annotations

from collections.abc import Callable
import threading
from typing import Any

from omegaconf import DictConfig
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import pytest

import hitl
from hitl.app import open_study
from hitl.config import build
from hitl.config import build_storage
from hitl.queue import ERROR_ATTR
from tests.conftest import Rater
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


class Stubborn(optuna.samplers.BaseSampler):
    """Proposes the same colour every time, as a sampler stuck on one point would."""

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, name: str, dist: BaseDistribution) -> Any:
        return dist.low


def _loop(cfg: DictConfig, sampler: optuna.samplers.BaseSampler, **kwargs: Any) -> tuple[hitl.Loop, optuna.Study]:
    storage = build_storage(cfg.storage)
    study, _ = open_study(storage=storage, study_name=cfg.study_name, sampler=sampler,
                          widgets=build(cfg.widget, "widget"))
    loop = hitl.Loop(study=study, generator=build(cfg.generator, "generator"),
                     artifact_store=build(cfg.artifacts, "artifacts"), batch=cfg.batch, **kwargs)
    return loop, study


@pytest.mark.parametrize("storage", ["sqlite", "memory"])
def test_a_repeated_output_is_never_queued(make_cfg: Callable[..., DictConfig], storage: str) -> None:
    overrides = [TUTORIAL, "batch=3"] + (["storage=memory"] if storage == "memory" else [])
    loop, study = _loop(make_cfg(*overrides), Stubborn())
    made = [loop.make_trial() for _ in range(6)]
    shown = [t for t in made if t is not None]
    colours = [tuple(t.params[c] for c in "rgb") for t in shown]
    assert len(colours) == len(set(colours)) >= 3  # every queued picture differs from the others
    repeats = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(repeats) == 6 - len(shown) >= 1
    assert all("identical to trial 0's" in t.user_attrs[ERROR_ATTR] for t in repeats)
    # the stubborn sampler's point is shown once; the trial after each repeat is drawn at random
    assert colours[0] == (0, 0, 0) and all(c != (0, 0, 0) for c in colours[1:])


def test_rated_outputs_count_too_and_an_exhausted_space_stops(make_cfg: Callable[..., DictConfig]) -> None:
    # two distinct pictures in the whole space: black and the darkest red
    cfg = make_cfg(TUTORIAL, "batch=1", "sampler=random", "generator.space.r.high=1", "generator.space.g.high=0",
                   "generator.space.b.high=0")
    storage = build_storage(cfg.storage)
    with Rater(storage, cfg.study_name, delay=0.01) as rater, pytest.raises(hitl.HitlError) as info:
        hitl.run(cfg)
    assert "generator.space" in str(info.value) and "exhausted" in str(info.value)
    study = optuna.load_study(study_name=cfg.study_name, storage=storage)
    rated = [tuple(t.params[c] for c in "rgb") for t in study.trials if t.state == TrialState.COMPLETE]
    waiting = [tuple(t.params[c] for c in "rgb") for t in waiting_trials(storage, study._study_id)]
    assert len(rated) == len(rater.rated)
    assert sorted(rated + waiting) == [(0, 0, 0), (1, 0, 0)]  # each once, both of them


@pytest.mark.postgres
def test_two_workers_never_both_show_one_output(make_cfg: Callable[..., DictConfig], postgres_url: str) -> None:
    """Two workers with a sampler stuck on one colour, at once: the database lets one show it."""
    cfg = make_cfg(TUTORIAL, "batch=8", f"storage.url={postgres_url}", "storage=postgres")
    loops = [_loop(cfg, Stubborn())[0] for _ in range(2)]
    start = threading.Barrier(2)

    def work(loop: hitl.Loop) -> None:
        start.wait()
        for _ in range(4):
            loop.make_trial()

    threads = [threading.Thread(target=work, args=(loop,)) for loop in loops]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    storage = build_storage(cfg.storage)
    study = optuna.load_study(study_name=cfg.study_name, storage=storage)
    queued = [tuple(t.params[c] for c in "rgb") for t in waiting_trials(storage, study._study_id)]
    assert len(queued) == len(set(queued)) and (0, 0, 0) in queued
    assert len(study.trials) == 8 and len(queued) + len([t for t in study.trials if t.state == TrialState.FAIL]) == 8
