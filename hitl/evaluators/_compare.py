"""A simulated person who compares: chooses the worst of the candidates shown, by its noisy distance."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
import threading
import urllib.request

import numpy as np
import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard._preferential_history import NewHistory
from optuna_dashboard._preferential_history import report_history

from hitl._errors import TRANSIENT_ERRORS
from hitl.evaluators._simulated import DISTANCE_ATTR
from hitl.evaluators._simulated import json_headers
from hitl.evaluators._simulated import SimulatedRater
from hitl.queue import READY_ATTR
from hitl.queue._compare import Comparisons


__all__ = ["SimulatedComparer", "candidates"]

_log = logging.getLogger("hitl")


def candidates(study: optuna.Study) -> list[FrozenTrial]:
    """The trials a person compares now, by number: ready, neither chosen as the worst nor skipped."""
    storage, study_id = study._storage, study._study_id
    comparisons = Comparisons.of(storage.get_study_system_attrs(study_id))  # before the trials, as the dashboard
    trials = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE))
    worse = comparisons.worse
    return sorted((t for t in trials if READY_ATTR in t.system_attrs and t.number not in worse
                   and t._trial_id not in comparisons.skipped_ids), key=lambda t: t.number)


class SimulatedComparer:
    """Compares the candidates of a comparison study as a :class:`SimulatedRater` would rate them.

    Each candidate's output is scored by the rater's ``scorer`` once (a distance: lower is
    better); at each look every candidate gets fresh Gaussian noise of ``noise_sd``, and the
    farthest is chosen as the worst (a share ``lapse`` of choices is made at random). The
    choice goes through the dashboard's preference API (``POST /api/studies/<id>/preference``,
    mode ``ChooseWorst``: what its "Which trial is the worst?" page sends) when a dashboard is
    served, through the same function on the storage otherwise. Each choice waits for the loop
    to refill the candidates, as a person looking at them would.

    Args:
        rater: The simulated rater whose scorer, noise, lapse, delay and random source are used.
    """

    def __init__(self, *, rater: SimulatedRater) -> None:
        self.rater = rater
        self._distances: dict[int, float] = {}  # trial id -> noise-free distance

    def choose_worst(self, distances: list[float]) -> int:
        """The index of the candidate this person calls the worst."""
        rng = self.rater._rng
        if self.rater.lapse and rng.random() < self.rater.lapse:
            return int(rng.integers(len(distances)))
        seen = np.asarray(distances, dtype=float)
        if self.rater.noise_sd:
            seen = seen + rng.normal(0.0, self.rater.noise_sd, len(seen))
        return int(np.argmax(seen))

    def start(self, *, study: optuna.Study, artifact_store: ArtifactStore, dashboard_url: str | None,
              wakeup: threading.Event, stop: threading.Event, batch: int,
              queue_full: threading.Event | None = None, dashboard_token: str | None = None,
              on_failure: Callable[[], None] | None = None) -> threading.Thread:
        """Compare in a background thread until ``stop`` is set; returns the thread.

        Choices go through the dashboard at ``dashboard_url`` when one is given, with
        ``dashboard_token`` as a bearer token. An error no retry mends stops the comparer, kept
        in the rater's ``failure``, and calls ``on_failure``.
        """
        thread = threading.Thread(target=self._run, name="hitl-simulated-comparer", daemon=True,
                                  args=(study, artifact_store, dashboard_url, wakeup, stop, batch, queue_full,
                                        dashboard_token, on_failure))
        thread.start()
        return thread

    def _run(self, study: optuna.Study, store: ArtifactStore, dashboard_url: str | None, wakeup: threading.Event,
             stop: threading.Event, batch: int, queue_full: threading.Event | None, token: str | None,
             on_failure: Callable[[], None] | None) -> None:
        while not stop.is_set():
            if queue_full is not None and not queue_full.wait(0.05):
                continue
            try:
                shown = candidates(study)
                if len(shown) < batch:  # a refill still in hand: a person compares the whole set
                    stop.wait(0.01)
                    continue
                distances = [self._distance(study, store, t) for t in shown]
                worst = shown[self.choose_worst(distances)]
                if queue_full is not None:
                    queue_full.clear()  # before the choice lands, so the refill it causes is awaited
                numbers = [t.number for t in shown]
                if dashboard_url is not None:
                    _choose_over_http(dashboard_url, study._study_id, numbers, worst.number, token)
                else:
                    report_history(study._study_id, study._storage,
                                   NewHistory(mode="ChooseWorst", candidates=numbers, clicked=worst.number))
                wakeup.set()
            except TRANSIENT_ERRORS as exc:
                _log.warning("simulated comparer: %s; retrying in 1 s", str(exc).splitlines()[0] if str(exc) else exc)
                stop.wait(1.0)
                continue
            except Exception as exc:  # noqa: BLE001 - a comparer failure must not hang the run
                _log.exception("simulated comparer failed; it stops comparing")
                self.rater.failure = f"a comparison: {type(exc).__name__}: {exc}".splitlines()[0]
                if on_failure is not None:
                    on_failure()
                return
            if self.rater.delay:
                stop.wait(self.rater.delay)

    def _distance(self, study: optuna.Study, store: ArtifactStore, trial: FrozenTrial) -> float:
        if trial._trial_id not in self._distances:
            _, distance = self.rater._judge_trial(_NoWidgets(), store, trial)
            study._storage.set_trial_user_attr(trial._trial_id, DISTANCE_ATTR, distance)
            self._distances[trial._trial_id] = distance
        return self._distances[trial._trial_id]


class _NoWidgets:
    """A widget set without objectives: the rater only measures the distance, it rates nothing."""

    objectives: list = []


def _choose_over_http(base_url: str, study_id: int, candidates: list[int], clicked: int,
                      token: str | None = None) -> None:
    """Exactly the request the dashboard's "Which trial is the worst?" page sends on a click."""
    request = urllib.request.Request(
        f"{base_url}/api/studies/{study_id}/preference", method="POST",
        data=json.dumps({"mode": "ChooseWorst", "candidates": candidates, "clicked": clicked}).encode(),
        headers=json_headers(token),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
