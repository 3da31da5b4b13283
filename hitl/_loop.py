"""The ask -> render -> upload -> note loop that keeps ``batch`` trials awaiting rating."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
import tempfile
import threading
import time

import optuna
from optuna.artifacts import upload_artifact
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard.artifact import get_artifact_path

from hitl._errors import HitlError
from hitl._note import note_body
from hitl._note import write_note
from hitl.generators import Generator


__all__ = ["Loop", "Progress", "READY_ATTR", "ERROR_ATTR"]

_log = logging.getLogger("hitl")

READY_ATTR = "hitl:ready"  # trial system attr, written last: output and note are stored
ERROR_ATTR = "hitl:error"  # trial user attr: why hitl failed the trial


@dataclass(frozen=True)
class Progress:
    """What the terminal shows: trials waiting, ratings so far, and the best one."""

    waiting: int
    rated: int
    best_value: float | None = None
    best_number: int | None = None


class Loop:
    """Keeps exactly ``batch`` rendered trials awaiting a person's rating.

    Args:
        study: The study; its sampler suggests parameters.
        generator: Renders each trial's output.
        artifact_store: Where outputs are uploaded.
        batch: Trials awaiting rating at once.
        n_trials: Stop once the study holds this many ratings (``None``: never).
        timeout: Stop after this many seconds (``None``: never).
        poll_interval: Seconds between storage checks for ratings made elsewhere.
        wakeup: Set by the embedded dashboard after each rating, so a refill starts at once.
        stop: Set to stop after the step in hand.
        max_render_failures: Renders failing in a row before the run gives up.
    """

    def __init__(
        self,
        *,
        study: optuna.Study,
        generator: Generator,
        artifact_store: ArtifactStore,
        batch: int,
        n_trials: int | None = None,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        wakeup: threading.Event | None = None,
        stop: threading.Event | None = None,
        max_render_failures: int = 5,
    ) -> None:
        self.study = study
        self.generator = generator
        self.artifact_store = artifact_store
        self.batch = batch
        self.n_trials = n_trials
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.wakeup = wakeup or threading.Event()
        self.stop = stop or threading.Event()
        self.max_render_failures = max_render_failures
        self._storage = study._storage
        self._study_id = study._study_id
        self._failures_in_a_row = 0
        self._shown: Progress | None = None

    def run(self) -> str:
        """Run until a stop condition; return why it stopped: ``n_trials``, ``timeout`` or ``stopped``."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.repair()
        while True:
            self.wakeup.clear()  # before counting, so a rating landing after the count still wakes us
            rated = self._n_rated()
            if self.n_trials is not None and rated >= self.n_trials:
                return self._finish("n_trials")
            if self.stop.is_set():
                return self._finish("stopped")
            if deadline is not None and time.monotonic() >= deadline:
                return self._finish("timeout")
            waiting = len(self._running())
            wanted = self.batch if self.n_trials is None else min(self.batch, self.n_trials - rated)
            if waiting < wanted:
                self.make_trial()
                continue
            self._show(waiting, rated)
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            self.wakeup.wait(pause)

    def repair(self) -> list[int]:
        """Fail the waiting trials whose output never got stored (a run died mid-render).

        Returns their numbers; the loop replaces them. Trials that are ready are adopted.
        """
        broken = [t for t in self._running() if READY_ATTR not in t.system_attrs]
        for t in broken:
            reason = "no output was stored (the run making it stopped mid-render); replaced"
            self._storage.set_trial_user_attr(t._trial_id, ERROR_ATTR, reason)
            self._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            _log.warning("trial %d had %s", t.number, reason)
        adopted = len(self._running())
        if adopted:
            _log.info("adopted %d trial(s) still awaiting rating", adopted)
        return [t.number for t in broken]

    def make_trial(self) -> FrozenTrial | None:
        """Ask, render, upload and note one trial; a failing render fails only that trial."""
        trial = self.study.ask()
        try:
            params = self.generator.suggest(trial)
        except Exception as exc:  # the sampler's settings only meet real trials here
            self._fail(trial, exc)
            raise HitlError(f"sampler: suggesting parameters failed ({_one_line(exc)}); check the sampler.* settings") from exc
        try:
            with tempfile.TemporaryDirectory(prefix="hitl-") as tmp:
                path = Path(self.generator.render(params, Path(tmp)))
                artifact_id = upload_artifact(
                    artifact_store=self.artifact_store, file_path=str(path), study_or_trial=trial
                )
        except Exception as exc:  # a user's generator may raise anything
            self._render_failed(trial, exc)
            return None
        self._failures_in_a_row = 0
        url = get_artifact_path(trial, artifact_id)
        body = note_body(number=trial.number, url=url, filename=path.name, params=params)
        write_note(self._storage, study_id=self._study_id, trial_id=trial._trial_id, body=body)
        self._storage.set_trial_system_attr(trial._trial_id, READY_ATTR, True)
        return self._storage.get_trial(trial._trial_id)

    def progress(self) -> Progress:
        """Count the study's waiting trials and ratings, and find the best rating."""
        rated = self._n_rated()
        best_value = best_number = None
        if rated and len(self.study.directions) == 1:
            best = self._storage.get_best_trial(self._study_id)
            best_value, best_number = best.value, best.number
        return Progress(len(self._running()), rated, best_value, best_number)

    def _fail(self, trial: optuna.Trial, exc: Exception) -> str:
        message = _one_line(exc)
        self._storage.set_trial_user_attr(trial._trial_id, ERROR_ATTR, message)
        self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        return message

    def _render_failed(self, trial: optuna.Trial, exc: Exception) -> None:
        message = self._fail(trial, exc)
        self._failures_in_a_row += 1
        _log.error("trial %d failed in the generator: %s", trial.number, message)
        if self._failures_in_a_row >= self.max_render_failures:
            raise HitlError(
                f"generator: {self._failures_in_a_row} renders failed in a row (last: {message}); "
                "fix the generator or its generator.* settings"
            )

    def _running(self) -> list[FrozenTrial]:
        return self._storage.get_all_trials(self._study_id, deepcopy=False, states=(TrialState.RUNNING,))

    def _n_rated(self) -> int:
        return self._storage.get_n_trials(self._study_id, state=TrialState.COMPLETE)

    def _show(self, waiting: int, rated: int) -> None:
        progress = self.progress()
        if progress == self._shown:
            return
        self._shown = progress
        total = f"/{self.n_trials}" if self.n_trials is not None else ""
        best = ""
        if progress.best_value is not None:
            best = f" | best {progress.best_value:g} (trial {progress.best_number})"
        _log.info("waiting %d | rated %d%s%s", progress.waiting, progress.rated, total, best)

    def _finish(self, reason: str) -> str:
        self._shown = None
        return reason


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
