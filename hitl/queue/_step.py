"""The step that makes one trial: ask, render, upload, note and mark it ready, or fail only it.

The trial's parameters, output, note and ready mark are stored together, so a trial is waiting
with its picture or not at all; an output identical to one already shown is never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import logging
import tempfile

import optuna
from optuna.artifacts import upload_artifact
from optuna.artifacts._protocol import ArtifactStore
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard.artifact import get_artifact_path

from hitl._errors import HitlError
from hitl._errors import TRANSIENT_ERRORS
from hitl.config._files import disk_full
from hitl.config._files import full_disk
from hitl.generators import Generator
from hitl.queue._attrs import ERROR_ATTR
from hitl.queue._attrs import READY_ATTR
from hitl.queue._claim import study_lock
from hitl.queue._lease import Worker
from hitl.queue._note import note_body
from hitl.queue._note import note_records
from hitl.queue._records import ParamWrites
from hitl.queue._records import Records
from hitl.queue._render import rendered
from hitl.queue._render import RenderTimedOut
from hitl.queue._shown import output_key
from hitl.queue._shown import shown_by
from hitl.queue._tally import Tally


__all__ = ["TrialMaker", "fresh_trial", "one_line"]

_log = logging.getLogger("hitl")


class TrialMaker:
    """Makes the queue's trials for one worker, and gives up when they keep failing.

    Args:
        study: The study whose sampler proposes each trial's parameters.
        generator: Suggests the parameters and renders the output from them.
        artifact_store: The store each output is uploaded to.
        worker: This worker, whose claim on the trial it makes is renewed meanwhile.
        max_render_failures: Renders failing in a row before the run gives up.
        max_repeats: New outputs in a row identical to ones already shown before the run gives
            up (the search space is exhausted).
    """

    def __init__(
        self,
        *,
        study: optuna.Study,
        generator: Generator,
        artifact_store: ArtifactStore,
        worker: Worker,
        max_render_failures: int,
        max_repeats: int,
    ) -> None:
        self.study = study
        self.generator = generator
        self.artifact_store = artifact_store
        self.max_render_failures = max_render_failures
        self.max_repeats = max_repeats
        self._storage = study._storage
        self._study_id = study._study_id
        self._worker = worker
        self._failures_in_a_row = 0
        self._distributions: dict[str, BaseDistribution] = {}  # of the study's parameters, as stored
        self._repeats_in_a_row = 0
        self._redraw = optuna.samplers.RandomSampler()  # for a trial after one that repeated an output

    def ask(self, tally: Tally) -> optuna.Trial:
        """A new trial claimed by this worker; call it under the study lock.

        ``Study.ask`` first looks for enqueued trials, reading every unfinished trial with
        all its records, and then needs a second write to claim the trial; the tally already
        knows whether any trial is enqueued, and the claim can be part of the trial's creation.
        """
        if tally.enqueued:
            trial = self.study.ask()
            self._worker.claim(trial._trial_id)
            return trial
        frozen = self._worker.new_trial(self._study_id)
        self.study._thread_local.cached_all_trials = None  # as Study.ask does: samplers see this trial
        return fresh_trial(self.study, frozen)

    def make(self, trial: optuna.Trial, deadline: float | None = None) -> int | None:
        """Render, upload and note the claimed ``trial``, renewing the claim meanwhile.

        Returns the trial's id once it is waiting, or ``None`` if it failed (its render failed,
        its output was shown already, or the render was still running at ``deadline``, a
        ``time.monotonic()``: then the trial is failed and its render abandoned).
        """
        with self._worker.renewing(trial._trial_id):
            try:
                return self._make_claimed(trial, deadline)
            except optuna.exceptions.UpdateFinishedTrialError:
                # told (rated or failed) by another path before its output was stored: the tally
                # never counts it as a rating (hitl.queue._verdict); this worker moves on
                _log.warning("trial %d was finished elsewhere (a dashboard or a script) before its output was "
                             "stored; it is not counted as a rating", trial.number)
                return None

    def _make_claimed(self, trial: optuna.Trial, deadline: float | None) -> int | None:
        writes = ParamWrites(self._storage, self._distributions)
        trial.storage = writes  # type: ignore[assignment]  # the parameters are stored together below
        try:
            with self._sampling():
                params = self.generator.suggest(trial)
            trial.storage = self._storage
            writes.write()
        except (*TRANSIENT_ERRORS, optuna.exceptions.UpdateFinishedTrialError):
            raise  # the database is away: the loop retries, and repairs this trial then; or it was told meanwhile
        except Exception as exc:  # the sampler's settings only meet real trials here
            trial.storage = self._storage
            self._fail(trial, exc)
            raise HitlError(f"sampler: suggesting parameters failed ({one_line(exc)}); check the sampler.* settings") from exc
        records = Records()  # the trial's records, stored together once its note is written
        uploading = False
        try:
            with rendered(self.generator, params, deadline) as path:
                uploading = True
                fingerprint = self.generator.fingerprint(path)
                artifact_id = upload_artifact(
                    artifact_store=self.artifact_store, file_path=str(path), study_or_trial=trial,
                    storage=records,  # type: ignore[arg-type]  # it records optuna's artifact attribute
                )
        except RenderTimedOut as exc:
            # no rating can come in time, and a later run must not wait for this worker's lease
            reason = f"timeout: {exc} when the run's time was up; the render was abandoned"
            self._storage.set_trial_user_attr(trial._trial_id, ERROR_ATTR, reason)
            self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            _log.warning("timeout reached while trial %d was rendering (%.1f s in): the trial is failed and its "
                         "render abandoned; raise timeout= to let such renders finish", trial.number, exc.seconds)
            return None
        except Exception as exc:  # a user's generator may raise anything
            if disk_full(exc):  # not the generator's fault: every later trial would fail the same way
                raise self._disk_full(trial, exc, uploading) from None
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

    def _fail(self, trial: optuna.Trial, exc: Exception) -> str:
        message = one_line(exc)
        self._storage.set_trial_user_attr(trial._trial_id, ERROR_ATTR, message)
        self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        return message

    def _disk_full(self, trial: optuna.Trial, exc: Exception, uploading: bool) -> HitlError:
        """The one line for a disk that filled while rendering or uploading: which disk, and the fix."""
        try:
            self._fail(trial, exc)  # it has no output; else the next run repairs it
        except Exception:  # noqa: BLE001 - the storage may be on the same full disk
            pass
        reason = one_line(exc)
        base = getattr(self.artifact_store, "base_path", None)
        if uploading and base is not None:
            return HitlError(f"artifacts.base_path={base}: {full_disk(base)} is full ({reason}); free some space "
                             "there, or set artifacts.base_path to a folder on another disk")
        if uploading:
            return HitlError(f"artifacts: the artifact store is full ({reason}); free some space in it")
        tmp = tempfile.gettempdir()
        return HitlError(f"generator: the render ran out of disk space ({reason}); outputs are rendered in "
                         f"TMPDIR={tmp}, {full_disk(tmp)}: free some space there, or set TMPDIR to another disk")

    def _render_failed(self, trial: optuna.Trial, exc: Exception) -> None:
        message = self._fail(trial, exc)
        self._failures_in_a_row += 1
        _log.error("trial %d failed in the generator: %s", trial.number, message)
        if self._failures_in_a_row >= self.max_render_failures:
            raise HitlError(
                f"generator: {self._failures_in_a_row} renders failed in a row (last: {message}); "
                "fix the generator or its generator.* settings"
            )


def fresh_trial(study: optuna.Study, frozen: FrozenTrial) -> optuna.Trial:
    """``optuna.Trial(study, trial_id)`` for a trial this worker has just stored as ``frozen``.

    optuna's constructor reads the trial back (six queries on a database server) before it
    tells the sampler (``before_trial``); this worker has the trial in hand, so it sets the
    same attributes from it. ``tests/queue/test_loop.py`` checks they are the ones optuna sets.
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


def one_line(exc: BaseException) -> str:
    """``Type: message``, the first line only: what a failed trial's ``hitl:error`` keeps."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
