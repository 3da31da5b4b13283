"""The ask -> render -> upload -> note loop that keeps ``batch`` trials awaiting rating."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import dataclasses
import json
import logging
from pathlib import Path
import tempfile
import threading
import time

import optuna
from optuna.artifacts import upload_artifact
from optuna.artifacts._protocol import ArtifactStore
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard.artifact import get_artifact_path

from hitl._claim import study_lock
from hitl._errors import HitlError
from hitl._errors import TRANSIENT_ERRORS
from hitl._lease import Worker
from hitl._note import note_body
from hitl._note import note_records
from hitl._records import ParamWrites
from hitl._records import Records
from hitl._shown import output_key
from hitl._shown import shown_by
from hitl._tally import Progress
from hitl._tally import Tally
from hitl.generators import Generator


__all__ = ["Loop", "Progress", "READY_ATTR", "ERROR_ATTR"]

_log = logging.getLogger("hitl")

ARTIFACT_ATTR_PREFIX = "artifacts:"  # trial system attrs optuna.artifacts.upload_artifact writes
READY_ATTR = "hitl:ready"  # trial system attr, written last: output and note are stored
ERROR_ATTR = "hitl:error"  # trial user attr: why hitl failed the trial


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
        self.max_repeats = max_repeats
        self.queue_full = threading.Event()
        """Set each time the loop has refilled the queue and waits for ratings (a simulated rater waits for it)."""
        self._storage = study._storage
        self._study_id = study._study_id
        self._failures_in_a_row = 0
        self._shown: Progress | None = None
        self._worker = Worker(self._storage, lease)
        self._ready: set[int] = set()  # unfinished trials known to hold their output
        directions = study.directions
        self._tally = Tally(self._storage, self._study_id, directions[0] if len(directions) == 1 else None)
        self._distributions: dict[str, BaseDistribution] = {}  # of the study's parameters, as stored
        self._repeats_in_a_row = 0
        self._redraw = optuna.samplers.RandomSampler()  # for a trial after one that repeated an output

    def run(self) -> str:
        """Run until a stop condition; return why it stopped: ``n_trials``, ``timeout`` or ``stopped``.

        A storage that stops answering (a database restart, a network cut) is logged and retried
        with growing pauses; the trial in hand, if any, is repaired once it is reachable again.
        """
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.repair()
        backoff = 0.5
        while True:
            self.wakeup.clear()  # before counting, so a rating landing after the count still wakes us
            try:
                outcome = self._tick(deadline)
            except TRANSIENT_ERRORS as exc:
                if self.stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
                    return self._finish("stopped" if self.stop.is_set() else "timeout")
                _log.warning("storage unreachable (%s); retrying in %.1f s", _one_line(exc), backoff)
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
        with study_lock(self._storage, self._study_id):
            self._tally.update()
            if self._repair_abandoned():
                self._tally.update()
            rated = self._tally.rated
            if self.n_trials is not None and rated >= self.n_trials:
                return "n_trials"
            if self.stop.is_set():
                return "stopped"
            if deadline is not None and time.monotonic() >= deadline:
                return "timeout"
            waiting = self._tally.waiting
            wanted = self.batch if self.n_trials is None else min(self.batch, self.n_trials - rated)
            trial = self._ask() if waiting < wanted else None
        if trial is None:
            self._show(self._tally.progress())
            return "full"
        if self._make(trial) is None or waiting + 1 < wanted:
            return "made"
        # This trial filled the queue: no need to count again until a rating wakes the loop.
        self._show(dataclasses.replace(self._tally.progress(), waiting=waiting + 1))
        return "full"

    def repair(self) -> list[int]:
        """Fail the unfinished trials without output that no live worker holds; adopt the rest.

        Returns the repaired trials' numbers; the loop replaces them.
        """
        with study_lock(self._storage, self._study_id):
            self._tally.update()
            repaired = self._repair_abandoned()
            self._tally.update()
        adopted = len(self._ready)
        if adopted:
            _log.info("adopted %d trial(s) still awaiting rating", adopted)
            self._check_outputs_reachable()
        return repaired

    def _check_outputs_reachable(self) -> None:
        """Warn if adopted trials' outputs are not in this artifact store (a rerun from another folder)."""
        lost = []
        for trial_id in sorted(self._ready):
            t = self._storage.get_trial(trial_id)
            for key, value in t.system_attrs.items():
                if not key.startswith(ARTIFACT_ATTR_PREFIX):
                    continue
                try:
                    self.artifact_store.open_reader(json.loads(value)["artifact_id"]).close()
                except Exception:  # noqa: BLE001 - missing, unreadable: either way nobody sees it here
                    lost.append(t.number)
        if lost:
            where = getattr(self.artifact_store, "base_path", type(self.artifact_store).__name__)
            _log.warning(
                "%d waiting trial(s) (%s) have outputs that the artifact store here (%s) lacks: a dashboard "
                "on it shows no picture for them; run from the folder that made them, or set artifacts.base_path",
                len(lost), ", ".join(map(str, lost)), where,
            )

    def _repair_abandoned(self) -> list[int]:
        repaired = []
        for trial_id in self._tally.unfinished_ids - self._ready:
            t = self._storage.get_trial(trial_id)
            if t.state != TrialState.RUNNING:
                continue
            if READY_ATTR in t.system_attrs:
                self._ready.add(trial_id)
                continue
            why = self._worker.abandoned(t)
            if why is None:
                continue  # a live worker is making it
            reason = f"no output was stored: {why}"
            self._storage.set_trial_user_attr(trial_id, ERROR_ATTR, reason)
            self._storage.set_trial_state_values(trial_id, TrialState.FAIL)
            _log.warning("trial %d failed and replaced: %s", t.number, reason)
            repaired.append(t.number)
        self._ready &= self._tally.unfinished_ids
        return repaired

    def make_trial(self) -> FrozenTrial | None:
        """Ask, render, upload and note one trial; a failing render fails only that trial.

        Returns the stored trial, or ``None`` if its render failed.
        """
        with study_lock(self._storage, self._study_id):
            self._tally.update()
            trial = self._ask()
        trial_id = self._make(trial)
        return None if trial_id is None else self._storage.get_trial(trial_id)

    def _ask(self) -> optuna.Trial:
        """A new trial claimed by this worker; call it under the study lock.

        ``Study.ask`` first looks for enqueued trials, reading every unfinished trial with
        all its records, and then needs a second write to claim the trial; the tally already
        knows whether any trial is enqueued, and the claim can be part of the trial's creation.
        """
        if self._tally.enqueued:
            trial = self.study.ask()
            self._worker.claim(trial._trial_id)
            return trial
        frozen = self._worker.new_trial(self._study_id)
        self.study._thread_local.cached_all_trials = None  # as Study.ask does: samplers see this trial
        return fresh_trial(self.study, frozen)

    def _make(self, trial: optuna.Trial) -> int | None:
        """Render, upload and note the claimed ``trial``, renewing the claim meanwhile."""
        with self._worker.renewing(trial._trial_id):
            return self._make_claimed(trial)

    def _make_claimed(self, trial: optuna.Trial) -> int | None:
        writes = ParamWrites(self._storage, self._distributions)
        trial.storage = writes  # type: ignore[assignment]  # the parameters are stored together below
        try:
            with self._sampling():
                params = self.generator.suggest(trial)
            trial.storage = self._storage
            writes.write()
        except TRANSIENT_ERRORS:
            raise  # the database is away: the loop retries, and repairs this trial then
        except Exception as exc:  # the sampler's settings only meet real trials here
            trial.storage = self._storage
            self._fail(trial, exc)
            raise HitlError(f"sampler: suggesting parameters failed ({_one_line(exc)}); check the sampler.* settings") from exc
        records = Records()  # the trial's records, stored together once its note is written
        try:
            with tempfile.TemporaryDirectory(prefix="hitl-") as tmp:
                path = Path(self.generator.render(params, Path(tmp)))
                fingerprint = self.generator.fingerprint(path)
                artifact_id = upload_artifact(
                    artifact_store=self.artifact_store, file_path=str(path), study_or_trial=trial,
                    storage=records,  # type: ignore[arg-type]  # it records optuna's artifact attribute
                )
        except Exception as exc:  # a user's generator may raise anything
            self._render_failed(trial, exc)
            return None
        self._failures_in_a_row = 0
        url = get_artifact_path(trial, artifact_id)
        body = note_body(number=trial.number, url=url, filename=path.name, params=params)
        records.set_study_system_attr(self._study_id, output_key(fingerprint), trial._trial_id)
        for key, value in note_records(trial_id=trial._trial_id, body=body).items():
            records.set_study_system_attr(self._study_id, key, value)
        records.set_trial_system_attr(trial._trial_id, READY_ATTR, True)  # last: all is stored
        repeated = None
        if not records.insert_together(self._storage, trial_id=trial._trial_id):
            # Not a database, or this output's key exists: check and store under the lock,
            # so two workers never both show one output.
            with study_lock(self._storage, self._study_id):
                repeated = shown_by(self._storage, self._study_id, fingerprint)
                if repeated is None:
                    records.store_each(self._storage)
        if repeated is not None:
            self._repeated(trial, repeated, artifact_id)
            return None
        self._repeats_in_a_row = 0
        self._ready.add(trial._trial_id)
        return trial._trial_id

    @contextlib.contextmanager
    def _sampling(self) -> Iterator[None]:
        """The study's sampler, or random sampling for the trial after a repeated output.

        The sampler that repeated itself would likely propose the same point again from the
        same ratings; one random draw moves on.
        """
        if self._repeats_in_a_row == 0:
            yield
            return
        sampler, self.study.sampler = self.study.sampler, self._redraw
        try:
            yield
        finally:
            self.study.sampler = sampler

    def _repeated(self, trial: optuna.Trial, original_id: int, artifact_id: str) -> None:
        original = self._storage.get_trial(original_id).number
        reason = f"its output is identical to trial {original}'s (waiting or rated), so it was not shown"
        self._storage.set_trial_user_attr(trial._trial_id, ERROR_ATTR, reason)
        self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        try:
            self.artifact_store.remove(artifact_id)
        except Exception:  # noqa: BLE001 - an orphan file is harmless; the trial is already failed
            pass
        self._repeats_in_a_row += 1
        _log.info("trial %d failed: %s; drawing the next one at random", trial.number, reason)
        if self._repeats_in_a_row >= self.max_repeats:
            raise HitlError(
                f"generator.space: {self._repeats_in_a_row} new trials in a row rendered outputs already shown; "
                "the search space looks exhausted: widen generator.space"
            )

    def progress(self) -> Progress:
        """Count the study's waiting trials and ratings, and find the best rating."""
        self._tally.update()
        return self._tally.progress()

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

    def _show(self, progress: Progress) -> None:
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
        self.queue_full.set()  # nothing more will come: nobody waits for a refill
        return reason


def fresh_trial(study: optuna.Study, frozen: FrozenTrial) -> optuna.Trial:
    """``optuna.Trial(study, trial_id)`` for a trial this worker has just stored as ``frozen``.

    optuna's constructor reads the trial back (six queries on a database server) before it
    tells the sampler (``before_trial``); this worker has the trial in hand, so it sets the
    same attributes from it. ``tests/test_loop.py`` checks they are the ones optuna sets.
    """
    trial = optuna.Trial.__new__(optuna.Trial)
    trial.study = study
    trial._trial_id = frozen._trial_id
    trial.storage = study._storage
    trial._cached_frozen_trial = frozen
    study.sampler.before_trial(study, frozen)
    trial.relative_search_space = None
    trial._relative_params = None
    trial._fixed_params = frozen.system_attrs.get("fixed_params", {})
    return trial


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
