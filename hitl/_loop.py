"""The ask -> render -> upload -> note loop that keeps ``batch`` trials awaiting rating."""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging
from pathlib import Path
import tempfile
import threading
import time
from typing import Any

import optuna
from optuna.artifacts import upload_artifact
from optuna.artifacts._protocol import ArtifactStore
from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard.artifact import get_artifact_path

from hitl._claim import study_lock
from hitl._errors import HitlError
from hitl._errors import TRANSIENT_ERRORS
from hitl._lease import Worker
from hitl._note import note_body
from hitl._note import note_records
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
        self._storage = study._storage
        self._study_id = study._study_id
        self._failures_in_a_row = 0
        self._shown: Progress | None = None
        self._worker = Worker(self._storage, lease)
        self._ready: set[int] = set()  # unfinished trials known to hold their output
        directions = study.directions
        self._tally = _Tally(self._storage, self._study_id, directions[0] if len(directions) == 1 else None)

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
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.monotonic()))
            self.wakeup.wait(pause)

    def _tick(self, deadline: float | None = None) -> str:
        """One pass of the loop: ``made`` a trial, the queue is ``full``, or a stop reason.

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
            trial = None
            if waiting < wanted:
                trial = self.study.ask()
                self._worker.claim(trial._trial_id)
        if trial is None:
            self._show(self._tally.progress())
            return "full"
        self._make(trial)
        return "made"

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
        return repaired

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
            trial = self.study.ask()
            self._worker.claim(trial._trial_id)
        trial_id = self._make(trial)
        return None if trial_id is None else self._storage.get_trial(trial_id)

    def _make(self, trial: optuna.Trial) -> int | None:
        """Render, upload and note the claimed ``trial``, renewing the claim meanwhile."""
        with self._worker.renewing(trial._trial_id):
            return self._make_claimed(trial)

    def _make_claimed(self, trial: optuna.Trial) -> int | None:
        try:
            params = self.generator.suggest(trial)
        except Exception as exc:  # the sampler's settings only meet real trials here
            self._fail(trial, exc)
            raise HitlError(f"sampler: suggesting parameters failed ({_one_line(exc)}); check the sampler.* settings") from exc
        records = _Records()  # the trial's records, stored together once its note is written
        try:
            with tempfile.TemporaryDirectory(prefix="hitl-") as tmp:
                path = Path(self.generator.render(params, Path(tmp)))
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
        for key, value in note_records(trial_id=trial._trial_id, body=body).items():
            records.set_study_system_attr(self._study_id, key, value)
        records.set_trial_system_attr(trial._trial_id, READY_ATTR, True)  # last: all is stored
        records.store(self._storage, study_id=self._study_id, trial_id=trial._trial_id)
        self._ready.add(trial._trial_id)
        return trial._trial_id

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
        return reason


class _Tally:
    """A study's waiting trials, ratings and best rating, kept current by reading only what changed.

    Finished trials never change again, so each update needs only the trials that are new or
    were unfinished at the last one. On an RDB storage that is one light query (ids, states and
    first values; no params or attributes), whatever the study's size; counting with
    ``get_n_trials`` / ``get_all_trials`` instead costs a refresh of optuna's trial cache per
    count and a pass over every trial, and ``get_best_trial`` a sort of every rating in the
    database. Other storages keep their trials in this process: they are counted from
    ``get_all_trials``.

    Of equally rated trials the best is the one with the lowest number (``get_best_trial``
    leaves ties to the database).
    """

    def __init__(self, storage: BaseStorage, study_id: int, direction: StudyDirection | None) -> None:
        self._storage = storage
        self._study_id = study_id
        self._maximize = None if direction is None else direction == StudyDirection.MAXIMIZE
        backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
        self._query = _RdbTrialStates(backend) if isinstance(backend, RDBStorage) else None
        self._last_id = -1  # every trial with a lower or equal id has been seen
        self._unfinished: dict[int, TrialState] = {}
        self.rated = 0
        self._best: tuple[float, int] | None = None  # (value, number)

    @property
    def unfinished_ids(self) -> set[int]:
        return set(self._unfinished)

    @property
    def waiting(self) -> int:
        return sum(1 for state in self._unfinished.values() if state == TrialState.RUNNING)

    def progress(self) -> Progress:
        best_value, best_number = self._best if self._best is not None else (None, None)
        return Progress(self.waiting, self.rated, best_value, best_number)

    def update(self) -> None:
        if self._query is None:
            self._recount()
            return
        rows = self._query.rows(self._study_id, self._last_id, list(self._unfinished))
        for trial_id, number, state, value in rows:
            self._last_id = max(self._last_id, trial_id)
            if not state.is_finished():
                self._unfinished[trial_id] = state
                continue
            self._unfinished.pop(trial_id, None)  # each finished trial is seen exactly once
            if state == TrialState.COMPLETE:
                self.rated += 1
                if value is not None:
                    self._consider(value, number)

    def _recount(self) -> None:
        trials = self._storage.get_all_trials(self._study_id, deepcopy=False)
        self._unfinished = {t._trial_id: t.state for t in trials if not t.state.is_finished()}
        self.rated, self._best = 0, None
        for t in trials:
            if t.state == TrialState.COMPLETE:
                self.rated += 1
                if t.values:
                    self._consider(t.values[0], t.number)

    def _consider(self, value: float, number: int) -> None:
        if self._maximize is None:
            return
        if self._best is None:
            self._best = (value, number)
            return
        best_value, best_number = self._best
        better = value > best_value if self._maximize else value < best_value
        if better or (value == best_value and number < best_number):
            self._best = (value, number)


class _RdbTrialStates:
    """The one query :class:`_Tally` needs, on optuna's own tables (so on its schema)."""

    def __init__(self, storage: RDBStorage) -> None:
        from optuna.storages._rdb import models
        import sqlalchemy

        self._engine = storage.engine
        self._to_value = models.TrialValueModel.stored_repr_to_value
        trials = models.TrialModel.__table__
        values = models.TrialValueModel.__table__
        self._trials = trials
        self._select = (
            sqlalchemy.select(trials.c.trial_id, trials.c.number, trials.c.state, values.c.value, values.c.value_type)
            .select_from(trials.outerjoin(values, sqlalchemy.and_(values.c.trial_id == trials.c.trial_id,
                                                                  values.c.objective == 0)))
        )
        self._union_all = sqlalchemy.union_all

    def rows(self, study_id: int, after_id: int, also_ids: list[int]) -> list[tuple[int, int, TrialState, float | None]]:
        """Trials of the study with an id above ``after_id`` or in ``also_ids``.

        Two selects joined by UNION ALL, not one with OR: with OR, SQLite walks the study's
        index over all its trials; each half alone is a range or key look-up.
        """
        t = self._trials.c
        mine = self._select.where(t.study_id == study_id)
        statement = mine.where(t.trial_id > after_id)
        if also_ids:
            statement = self._union_all(statement, mine.where(t.trial_id.in_(also_ids)))
        with self._engine.connect() as conn:
            result = conn.execute(statement).all()
        return [
            (trial_id, number, state, None if value_type is None else self._to_value(value, value_type))
            for trial_id, number, state, value, value_type in result
        ]


class _Records:
    """A new trial's system attributes and its note's study attributes, stored in one go.

    Stored one by one, as optuna's ``set_*_system_attr`` do, each is a transaction of its own
    (on SQLite, a commit to disk each). On an RDB storage they are inserted in one
    transaction: the trial's output, note and ready mark appear together. The records are
    the same either way; any other storage, or a key that somehow exists already, gets the
    one-by-one writes in the original order.
    """

    def __init__(self) -> None:
        self.records: list[tuple[str, int, str, Any]] = []  # ("trial" | "study", id, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self.records.append(("trial", trial_id, key, value))

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self.records.append(("study", study_id, key, value))

    def store(self, storage: BaseStorage, *, study_id: int, trial_id: int) -> None:
        backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
        if isinstance(backend, RDBStorage) and self._insert_together(backend, trial_id):
            return
        for kind, owner, key, value in self.records:
            if kind == "trial":
                storage.set_trial_system_attr(owner, key, value)
            else:
                storage.set_study_system_attr(owner, key, value)

    def _insert_together(self, storage: RDBStorage, trial_id: int) -> bool:
        """Insert all records in one transaction; ``False`` (nothing written) if a key exists."""
        from optuna.storages._rdb import models
        import sqlalchemy

        trials = models.TrialModel.__table__
        rows = {"trial": [], "study": []}  # type: dict[str, list[dict[str, Any]]]
        for kind, owner, key, value in self.records:
            rows[kind].append({f"{kind}_id": owner, "key": key, "value_json": json.dumps(value)})
        try:
            with storage.engine.begin() as conn:
                state = conn.execute(sqlalchemy.select(trials.c.state).where(trials.c.trial_id == trial_id)).scalar_one()
                storage.check_trial_is_updatable(trial_id, state)  # as set_trial_system_attr does
                if rows["trial"]:
                    conn.execute(models.TrialSystemAttributeModel.__table__.insert(), rows["trial"])
                if rows["study"]:
                    conn.execute(models.StudySystemAttributeModel.__table__.insert(), rows["study"])
        except sqlalchemy.exc.IntegrityError:
            return False
        except sqlalchemy.exc.SQLAlchemyError as exc:  # as optuna's own writes report it
            raise optuna.exceptions.StorageInternalError(f"storing trial {trial_id}'s output records failed") from exc
        return True


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
