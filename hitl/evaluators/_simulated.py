"""A simulated person: judges each output file, rates through the same path a person uses."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import json
import logging
from pathlib import Path
import tempfile
import threading
import urllib.request

import numpy as np
import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from hitl._errors import HitlError
from hitl._errors import TRANSIENT_ERRORS
from hitl.config._files import disk_full
from hitl.evaluators._judge import nearest
from hitl.evaluators._judge import random_value
from hitl.evaluators._judge import rate
from hitl.queue import READY_ATTR
from hitl.server import WidgetSet


__all__ = ["DISTANCE_ATTR", "SimulatedRater"]

_log = logging.getLogger("hitl")

DISTANCE_ATTR = "sim:distance"  # trial user attr: the noise-free distance, for sweep reports


class SimulatedRater:
    """A rater model standing in for a person, for unattended runs and sweeps.

    It scores each waiting trial's output file with ``scorer`` (a distance: lower is
    better), adds Gaussian noise, maps the judgement onto the configured widget set (see
    :func:`hitl.evaluators._judge.rate`) and tells the rating through the dashboard's HTTP
    API when a dashboard is served, through the storage otherwise. It rates the oldest
    waiting trial first, one at a time.

    Args:
        scorer: Output file -> distance to what the person wants (e.g. ``ColorDistance``).
        noise_sd: Standard deviation of the noise added to each judgement.
        thresholds: Distances separating the choice widget's bins, best first.
        worst: Distance at which a slider reaches its worst end.
        success: Distance that counts as reaching the target, in sweep reports.
        delay: Seconds the simulated person takes per rating.
        seed: Seed of the noise.
        lapse: Share of ratings given at random, whatever the output (an inconsistent
            person): uniform over the widget's values (a slider's steps, the choices, 0..100
            typed).
        levels: The only slider values this person uses (a coarse person, e.g. ``[1, 5, 10]``):
            each rating goes to the nearest of them. Other widgets ignore it.
        noise_scale: ``noise_sd`` times this (a habit in any task's units: the scorer sets
            ``noise_sd``, an inconsistent person multiplies it).
    """

    def __init__(
        self,
        *,
        scorer: Callable[[Path], float] | None = None,
        noise_sd: float = 3.0,
        thresholds: Sequence[float] = (12.0, 30.0),
        worst: float = 60.0,
        success: float = 10.0,
        delay: float = 0.0,
        seed: int | None = None,
        lapse: float = 0.0,
        levels: Sequence[float] | None = None,
        noise_scale: float = 1.0,
    ) -> None:
        if scorer is None:
            raise HitlError("evaluator.rater.scorer: no scorer fits this generator; pick one with "
                            "evaluator/scorer=<option> (python run.py --help lists them) or set "
                            "+evaluator.rater.scorer._target_=<your callable>")
        if noise_sd < 0:
            raise HitlError(f"evaluator.noise_sd={noise_sd}: must be 0 or more")
        if not noise_scale >= 0:
            raise HitlError(f"evaluator.rater.noise_scale={noise_scale}: must be 0 or more")
        if list(thresholds) != sorted(thresholds) or not thresholds:
            raise HitlError(f"evaluator.thresholds={list(thresholds)}: give increasing distances")
        if worst <= 0:
            raise HitlError(f"evaluator.worst={worst}: must be positive")
        if not 0 <= lapse <= 1:
            raise HitlError(f"evaluator.rater.lapse={lapse}: give a share in 0..1")
        if levels is not None and not levels:
            raise HitlError("evaluator.rater.levels is empty: list the slider values used, or null for all")
        self.scorer = scorer
        self.noise_sd = noise_sd * noise_scale
        self.thresholds = list(thresholds)
        self.worst = worst
        self.success = success
        self.delay = delay
        self.lapse = lapse
        self.levels = None if levels is None else sorted(float(v) for v in levels)
        self._rng = np.random.default_rng(seed)
        self.disk_full: BaseException | None = None
        """What the storage raised when its disk filled; the rater stopped then (see :meth:`start`)."""
        self.failure: str | None = None
        """Why the rater stopped on an error no retry mends (one line, naming the trial), if it did."""

    def judge(self, widgets: WidgetSet, output: Path) -> tuple[list[float], float]:
        """The values to submit for ``output``, and its noise-free distance."""
        distance = float(self.scorer(output))
        seen = distance + float(self._rng.normal(0.0, self.noise_sd)) if self.noise_sd else distance
        values = []
        for objective in widgets.objectives:
            if self.lapse and self._rng.random() < self.lapse:
                value = random_value(objective, self._rng)
            else:
                value = rate(objective, max(0.0, seen), thresholds=self.thresholds, worst=self.worst)
            values.append(nearest(objective, value, self.levels) if self.levels else value)
        return values, distance

    def start(self, *, study: optuna.Study, widgets: WidgetSet, artifact_store: ArtifactStore,
              dashboard_url: str | None, wakeup: threading.Event, stop: threading.Event,
              queue_full: threading.Event | None = None,
              on_failure: Callable[[], None] | None = None, dashboard_token: str | None = None) -> threading.Thread:
        """Rate in a background thread until ``stop`` is set; returns the thread.

        A full disk, or any error no retry mends, stops the rater: it keeps the error in
        :attr:`disk_full` or :attr:`failure` and calls ``on_failure``, so the run, which would
        wait for ratings that never come, stops too.

        With ``queue_full`` (set by the loop once it has refilled the queue), each rating waits
        for it, as a person taking longer than a refill would: the sampler always asks with
        the queue's other trials still waiting, as it does when people rate.

        Ratings go through the dashboard at ``dashboard_url`` when one is given, with
        ``dashboard_token`` (the admin token of a dashboard with tokens on) as a bearer token.
        """
        thread = threading.Thread(
            target=self._run, name="hitl-simulated-rater", daemon=True,
            args=(study, widgets, artifact_store, dashboard_url, wakeup, stop, queue_full, on_failure,
                  dashboard_token),
        )
        thread.start()
        return thread

    def _run(self, study: optuna.Study, widgets: WidgetSet, store: ArtifactStore, dashboard_url: str | None,
             wakeup: threading.Event, stop: threading.Event, queue_full: threading.Event | None,
             on_failure: Callable[[], None] | None, token: str | None) -> None:
        storage, study_id = study._storage, study._study_id
        while not stop.is_set():
            if queue_full is not None and not queue_full.wait(0.05):
                continue
            try:
                running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
            except TRANSIENT_ERRORS as exc:
                _log.warning("simulated rater: %s; retrying in 1 s", _one_line(exc))
                stop.wait(1.0)
                continue
            ready = [t for t in running if READY_ATTR in t.system_attrs]
            if not ready:
                stop.wait(0.01)
                continue
            trial = min(ready, key=lambda t: t.number)
            try:
                values, distance = self._judge_trial(widgets, store, trial)
                storage.set_trial_user_attr(trial._trial_id, DISTANCE_ATTR, distance)
                if queue_full is not None:
                    queue_full.clear()  # before the rating lands, so the refill it causes is awaited
                if dashboard_url is not None:
                    _tell_over_http(dashboard_url, trial._trial_id, values, token)
                else:
                    storage.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, values)
                wakeup.set()  # a sweep's shared dashboard cannot wake this job's loop
            except Exception as exc:
                if disk_full(exc):  # no retry frees it
                    self.disk_full = exc
                elif not isinstance(exc, TRANSIENT_ERRORS):
                    _log.exception("simulated rater failed on trial %d; it stops rating", trial.number)
                    self.failure = f"trial {trial.number}: {_one_line(exc)}"
                if self.disk_full is not None or self.failure is not None:
                    if on_failure is not None:
                        on_failure()
                    return
                # the database or dashboard is away: like a person, try again
                _log.warning("simulated rater: %s; retrying in 1 s", _one_line(exc))
                stop.wait(1.0)
                continue
            if self.delay:
                stop.wait(self.delay)

    def _judge_trial(self, widgets: WidgetSet, store: ArtifactStore, trial: FrozenTrial) -> tuple[list[float], float]:
        metas = [json.loads(v) for k, v in trial.system_attrs.items() if k.startswith("artifacts:")]
        meta = metas[-1]
        with tempfile.TemporaryDirectory(prefix="hitl-rater-") as tmp:
            path = Path(tmp) / meta.get("filename", "output")
            with store.open_reader(meta["artifact_id"]) as reader, open(path, "wb") as out:
                out.write(reader.read())
            return self.judge(widgets, path)


def _tell_over_http(base_url: str, trial_id: int, values: list[float], token: str | None = None) -> None:
    """Exactly the request the dashboard's UI sends when a person submits a rating."""
    request = urllib.request.Request(
        f"{base_url}/api/trials/{trial_id}/tell", method="POST",
        data=json.dumps({"state": "Complete", "values": values}).encode(), headers=json_headers(token),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def json_headers(token: str | None) -> dict[str, str]:
    """A JSON request's headers, with the token as the dashboard takes it from scripts."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
