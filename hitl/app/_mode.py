"""The study's mode: ratings, or comparisons (Optuna Dashboard's preferential study); a study keeps its mode."""

from __future__ import annotations

from collections.abc import Callable
import logging
import threading
import time
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna_dashboard import register_preference_feedback_component
from optuna_dashboard.preferential import load_study as load_preferential_study
from optuna_dashboard.preferential._system_attrs import get_n_generate
from optuna_dashboard.preferential._system_attrs import _SYSTEM_ATTR_N_GENERATE
from optuna_dashboard.preferential._system_attrs import set_n_generate

from hitl._errors import HitlError
from hitl.app._study import _check_space
from hitl.app._study import open_study
from hitl.app._study import SPACE_ATTR
from hitl.app._study import WIDGET_SET_ATTR
from hitl.evaluators._compare import SimulatedComparer
from hitl.evaluators._simulated import SimulatedRater
from hitl.generators import Generator
from hitl.queue import Progress
from hitl.queue._compare import is_preferential
from hitl.queue._compare import PREFERENTIAL_ATTR
from hitl.results._ranking import preference_scores
from hitl.samplers import ComparisonSampler
from hitl.server import WidgetSet
from hitl.server._access import Access


__all__ = ["announce_comparisons", "check_sampler", "comparison_summary", "open_study_in_mode", "start_comparer"]

_log = logging.getLogger("hitl")
_COMPARING: tuple[type, ...] = (ComparisonSampler,)  # samplers that read the study's choices

MODES = ("rating", "preferential")

def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise HitlError(f"mode.name={mode!r}: use mode=rating or mode=preferential")


def open_study_in_mode(
    *,
    mode: str,
    storage: BaseStorage,
    study_name: str,
    sampler: optuna.samplers.BaseSampler,
    widgets: WidgetSet,
    generator: Generator | None,
    batch: int,
) -> tuple[optuna.Study, bool]:
    """Return the study and whether it already existed, refusing a study made in the other mode.

    A comparison study is optuna-dashboard's preferential study: the dashboard shows its
    "Which trial is the worst?" page over the ``batch`` candidates (``n_generate``), each card
    the trial's note (the output and its parameters).
    """
    check_mode(mode)
    try:
        existing = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    except KeyError:
        existing = None
    if existing is not None and not _marked(storage, existing._study_id):
        _wait_for_its_mode(storage, existing._study_id)  # another worker may be making it right now
    if existing is not None:
        stored = "preferential" if is_preferential(existing) else "rating"
        if stored != mode:
            raise HitlError(
                f"study_name={study_name!r} was made with mode={stored} "
                f"({'comparisons' if stored == 'preferential' else 'ratings'}), not mode={mode}: "
                f"run it with mode={stored}, or pick another study_name="
            )
    if mode == "rating":
        return open_study(storage=storage, study_name=study_name, sampler=sampler, widgets=widgets,
                          generator=generator)
    if existing is None:
        try:
            study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler)
        except optuna.exceptions.DuplicatedStudyError:
            # Workers started together on a new study: another one created it since our look.
            return open_study_in_mode(mode=mode, storage=storage, study_name=study_name, sampler=sampler,
                                      widgets=widgets, generator=generator, batch=batch)
        storage.set_study_system_attr(study._study_id, PREFERENTIAL_ATTR, True)
        register_preference_feedback_component(load_preferential_study(
            study_name=study_name, storage=storage, sampler=sampler), "note")
        if generator is not None:
            storage.set_study_system_attr(study._study_id, SPACE_ATTR, generator.space_kinds())
        set_n_generate(study._study_id, storage, batch)  # last: a worker that sees it sees a whole study
        return study, False
    if generator is not None:
        _check_space(existing, generator)
    if get_n_generate(storage.get_study_system_attrs(existing._study_id)) != batch:
        set_n_generate(existing._study_id, storage, batch)  # the candidates compared at once follow batch
    return existing, True


def _marked(storage: BaseStorage, study_id: int) -> bool:
    """Whether the study is whole: a rating study's widget set, a comparison study's batch (set last)."""
    attrs = storage.get_study_system_attrs(study_id)
    return WIDGET_SET_ATTR in attrs or _SYSTEM_ATTR_N_GENERATE in attrs


def _wait_for_its_mode(storage: BaseStorage, study_id: int, seconds: float = 5.0) -> None:
    """Until the worker making a new study has made it whole (:func:`_marked`).

    A study that stays unmarked was made outside hitl (plain optuna): it is opened as it is.
    """
    if storage.get_all_trials(study_id, deepcopy=False):
        return  # in use already: not one being made
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not _marked(storage, study_id):
        time.sleep(0.02)


def announce_comparisons(study: optuna.Study, *, url: str, dashboard: Any) -> None:
    """Log where people compare: the rating view, then the dashboard's "Which trial is the worst?" page."""
    access = dashboard.access if dashboard is not None else Access()
    _log.info("choose the worst of the outputs shown at %s (one keypress a choice)",
              access.link(f"{url}/rate/studies/{study._study_id}"))
    _log.info("or at %s in Optuna Dashboard (Which trial is the worst?)",
              access.link(f"{url}/dashboard/studies/{study._study_id}", admin=True))


def start_comparer(rater: Any, *, study: optuna.Study, artifact_store: Any, batch: int, dashboard_url: str | None,
                   wakeup: threading.Event, stop: threading.Event,
                   queue_full: threading.Event | None, dashboard_token: str | None = None,
                   on_failure: Callable[[], None] | None = None) -> threading.Thread:
    """The simulated rater of ``evaluator=simulated``, comparing instead of rating (the same scorer and habits)."""
    if not isinstance(rater, SimulatedRater):
        raise HitlError(f"mode=preferential: evaluator.rater {type(rater).__name__} cannot compare; "
                        "use evaluator=simulated or evaluator=human")
    return SimulatedComparer(rater=rater).start(study=study, artifact_store=artifact_store, dashboard_url=dashboard_url,
                                                wakeup=wakeup, stop=stop, batch=batch, queue_full=queue_full,
                                                dashboard_token=dashboard_token, on_failure=on_failure)


def comparison_summary(study: optuna.Study, progress: Progress) -> Progress:
    """The run's progress with the most preferred output (a Bradley-Terry fit of the choices) as its best."""
    scores = preference_scores(study)
    if not scores:
        return progress
    best = min(scores, key=lambda n: (-scores[n], n))
    return Progress(progress.waiting, progress.rated, None, best, (best,), progress.counted)


def check_sampler(mode: str, sampler: optuna.samplers.BaseSampler) -> None:
    """A sampler that learns from comparisons needs them; one that learns from ratings learns nothing from them."""
    comparing = isinstance(sampler, _COMPARING) or type(sampler).__name__ == "PreferentialGPSampler"
    if mode == "rating" and comparing:
        raise HitlError(f"sampler: {type(sampler).__name__} learns from comparisons: use it with mode=preferential, "
                        "or sampler=auto for ratings")
    if mode == "preferential" and not comparing and not isinstance(sampler, optuna.samplers.RandomSampler):
        _log.warning("sampler: %s learns nothing from comparisons (each compared trial is told 0); sampler=auto "
                     "(ComparisonSampler) or sampler=preferential_gp learn from them", type(sampler).__name__)
