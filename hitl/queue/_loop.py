"""The ask -> render -> upload -> note loop that keeps ``batch`` trials awaiting rating."""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import logging
import threading
import time

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial

from hitl._errors import HitlError
from hitl._errors import TRANSIENT_ERRORS
from hitl.config._files import disk_full
from hitl.config._files import full_storage_message
from hitl.generators import Generator
from hitl.queue._claim import LockNotTaken
from hitl.queue._claim import study_lock
from hitl.queue._compare import ComparisonTally
from hitl.queue._lease import Worker
from hitl.queue._repair import Repair
from hitl.queue._step import one_line
from hitl.queue._step import TrialMaker
from hitl.queue._tally import Progress
from hitl.queue._tally import Tally


__all__ = ["Loop"]

_log = logging.getLogger("hitl")


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
        max_repeats: New outputs in a row identical to ones already shown before the run gives
            up (the search space is exhausted).
        lease: Seconds this worker's claim on a trial it is making lasts without renewal.
        rating_label: How the progress line shows a rating (a choice widget's label); the
            number by default.
        comparisons: A comparison study (``mode=preferential``): ``batch`` candidates are kept,
            each until it is chosen as the worst or skipped, and ``n_trials`` counts choices.
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
        max_repeats: int = 20,
        lease: float = 30.0,
        rating_label: Callable[[float], str] | None = None,
        comparisons: bool = False,
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
        self.queue_full = threading.Event()
        """Set each time the loop has refilled the queue and waits for ratings (a simulated rater waits for it)."""
        self._storage = study._storage
        self._study_id = study._study_id
        self._shown: Progress | None = None
        self._label = rating_label or (lambda value: f"{value:g}")
        worker = Worker(self._storage, lease)
        self._repair = Repair(storage=self._storage, artifact_store=artifact_store, worker=worker)
        self._maker = TrialMaker(study=study, generator=generator, artifact_store=artifact_store, worker=worker,
                                 max_render_failures=max_render_failures, max_repeats=max_repeats)
        directions = study.directions
        self._tally = Tally(self._storage, self._study_id, directions[0] if len(directions) == 1 else None, record=True)
        self._comparisons = comparisons
        if comparisons:  # a comparison study counts its candidates and choices instead
            self._tally = ComparisonTally(self._storage, self._study_id)

    def run(self) -> str:
        """Run until a stop condition; return why it stopped: ``n_trials``, ``timeout`` or ``stopped``.

        A storage that stops answering (a database restart, a network cut) is logged and retried
        with growing pauses; the trial in hand, if any, is repaired once it is reachable again.
        """
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            self.repair(deadline)
        except LockNotTaken:
            return self._finish("stopped" if self.stop.is_set() else "timeout")
        backoff = 0.5
        while True:
            self.wakeup.clear()  # before counting, so a rating landing after the count still wakes us
            try:
                outcome = self._tick(deadline)
            except LockNotTaken:  # another process held the study lock past the deadline or the stop
                return self._finish("stopped" if self.stop.is_set() else "timeout")
            except HitlError:
                raise
            except Exception as exc:
                if disk_full(exc):  # no retry frees the disk: say which one it is, not "unreachable"
                    raise HitlError(full_storage_message(self._storage, exc)) from None
                if not isinstance(exc, TRANSIENT_ERRORS):
                    raise
                if self.stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                    return self._finish("stopped" if self.stop.is_set() else "timeout")
                _log.warning("storage unreachable (%s); retrying in %.1f s", one_line(exc), backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if backoff > 0.5:
                _log.info("storage reachable again")
                backoff = 0.5
            if outcome == "made":
                continue
            if outcome != "full":
                return self._finish(outcome)
            self.queue_full.set()
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            self.wakeup.wait(pause)

    def _tick(self, deadline: float | None = None) -> str:
        """One pass of the loop: ``made`` a trial, the queue is ``full`` (perhaps just filled), or a stop reason.

        Counting and claiming happen under the study lock, so workers sharing the study keep
        ``batch`` trials between them: the study never holds more than ``batch`` unfinished trials.
        """
        with study_lock(self._storage, self._study_id, deadline=deadline, stop=self.stop):
            self._tally.update()
            if self._repair.abandoned(self._tally):
                self._tally.update()
            rated = self._tally.rated
            if self.n_trials is not None and rated >= self.n_trials:
                return "n_trials"
            if self.stop.is_set():
                return "stopped"
            if deadline is not None and time.monotonic() >= deadline:
                return "timeout"
            waiting = self._tally.waiting
            wanted = self.batch if self.n_trials is None or self._comparisons else min(self.batch, self.n_trials - rated)
            trial = self._maker.ask(self._tally) if waiting < wanted else None
        if trial is None:
            self._show(self._tally.progress())
            return "full"
        if self._make(trial, deadline) is None or waiting + 1 < wanted:
            return "made"
        # This trial filled the queue: no need to count again until a rating wakes the loop.
        self._show(dataclasses.replace(self._tally.progress(), waiting=waiting + 1))
        return "full"

    def repair(self, deadline: float | None = None) -> list[int]:
        """Fail the unfinished trials without output that no live worker holds; adopt the rest.

        Returns the repaired trials' numbers; the loop replaces them. Waiting for the study lock
        gives up at ``deadline`` (``time.monotonic()``) or on stop, with ``LockNotTaken``.
        """
        with study_lock(self._storage, self._study_id, deadline=deadline, stop=self.stop):
            self._tally.update()
            repaired = self._repair.abandoned(self._tally)
            self._tally.update()
        adopted = len(self._repair.ready)
        if adopted:
            _log.info("adopted %d trial(s) still awaiting rating", adopted)
            self._repair.check_outputs_reachable()
        return repaired

    def make_trial(self) -> FrozenTrial | None:
        """Ask, render, upload and note one trial; a failing render fails only that trial.

        Returns the stored trial, or ``None`` if its render failed.
        """
        with study_lock(self._storage, self._study_id):
            self._tally.update()
            trial = self._maker.ask(self._tally)
        trial_id = self._make(trial)
        return None if trial_id is None else self._storage.get_trial(trial_id)

    def _make(self, trial: optuna.Trial, deadline: float | None = None) -> int | None:
        """Render, upload and note the claimed ``trial``; its id once it is waiting, else ``None``.

        A render still running at ``deadline`` (the run's ``timeout``) is abandoned and the trial failed.
        """
        trial_id = self._maker.make(trial, deadline)
        if trial_id is not None:
            self._repair.ready.add(trial_id)
        return trial_id

    def progress(self) -> Progress:
        """Count the study's waiting trials and ratings, and find the best rating."""
        self._tally.update()
        return self._tally.progress()

    def _show(self, progress: Progress) -> None:
        if progress == self._shown:
            return
        self._shown = progress
        total = f"/{self.n_trials}" if self.n_trials is not None else ""
        best = ""
        if progress.best_value is not None:
            numbers = ", ".join(str(n) for n in progress.best_numbers)  # ties: every one
            trials = "trials" if len(progress.best_numbers) > 1 else "trial"
            best = f" | best {self._label(progress.best_value)} ({trials} {numbers})"
        _log.info("waiting %d | %s %d%s%s", progress.waiting, progress.counted, progress.rated, total, best)

    def _finish(self, reason: str) -> str:
        self._shown = None
        self.queue_full.set()  # nothing more will come: nobody waits for a refill
        return reason
