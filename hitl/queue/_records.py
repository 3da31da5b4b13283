"""A new trial's records (the trial and its claim; its parameters; its output, note and ready mark),
each stored in one transaction."""

from __future__ import annotations

import datetime
import json
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import check_distribution_compatibility
from optuna.distributions import distribution_to_json
from optuna.distributions import json_to_distribution
from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import sqlalchemy


__all__ = ["ParamWrites", "Records", "insert_trial"]


class Records:
    """A new trial's system attributes and its note's study attributes, stored in one go.

    Stored one by one, as optuna's ``set_*_system_attr`` do, each is a transaction of its own
    (on SQLite, a commit to disk each). On an RDB storage they are inserted in one
    transaction: the trial's output, note and ready mark appear together, or none of them
    (also when one of the keys exists already: see :mod:`hitl.queue._shown`).
    """

    def __init__(self) -> None:
        self.records: list[tuple[str, int, str, Any]] = []  # ("trial" | "study", id, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self.records.append(("trial", trial_id, key, value))

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self.records.append(("study", study_id, key, value))

    def insert_together(self, storage: BaseStorage, *, trial_id: int) -> bool:
        """Insert all records in one transaction; ``False`` (nothing written) if a key exists or
        ``storage`` is not an RDB storage."""
        backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
        if not isinstance(backend, RDBStorage):
            return False
        trials = models.TrialModel.__table__
        rows = {"trial": [], "study": []}  # type: dict[str, list[dict[str, Any]]]
        for kind, owner, key, value in self.records:
            rows[kind].append({f"{kind}_id": owner, "key": key, "value_json": json.dumps(value)})
        try:
            with backend.engine.begin() as conn:
                state = conn.execute(sqlalchemy.select(trials.c.state).where(trials.c.trial_id == trial_id)).scalar_one()
                backend.check_trial_is_updatable(trial_id, state)  # as set_trial_system_attr does
                if rows["trial"]:
                    conn.execute(models.TrialSystemAttributeModel.__table__.insert(), rows["trial"])
                if rows["study"]:
                    conn.execute(models.StudySystemAttributeModel.__table__.insert(), rows["study"])
        except sqlalchemy.exc.IntegrityError:
            return False
        except sqlalchemy.exc.SQLAlchemyError as exc:  # as optuna's own writes report it
            raise optuna.exceptions.StorageInternalError(f"storing trial {trial_id}'s output records failed") from exc
        return True

    def store_each(self, storage: BaseStorage) -> None:
        """Store the records one by one, in order, replacing any existing value of a key."""
        for kind, owner, key, value in self.records:
            if kind == "trial":
                storage.set_trial_system_attr(owner, key, value)
            else:
                storage.set_study_system_attr(owner, key, value)


class ParamWrites:
    """Stands in for a trial's storage while the generator suggests; its parameters are stored in one go.

    optuna's ``Trial`` stores each suggested parameter at once, a transaction each (on SQLite,
    a commit to disk each). With this object as the trial's ``storage``, they are kept until
    :meth:`write`, which on an RDB storage inserts them in one transaction with optuna's own
    checks (the trial still runs; a parameter's distribution is compatible with the one the
    study already has). Everything else the trial asks of its storage reads through.

    Args:
        storage: The study's storage.
        known: Distributions of parameters the study already has, by name; filled as they
            are read, so one ``ParamWrites`` per trial can share it.
    """

    def __init__(self, storage: BaseStorage, known: dict[str, BaseDistribution]) -> None:
        self._storage = storage
        self._known = known
        self._params: list[tuple[int, str, float, BaseDistribution]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                        distribution: BaseDistribution) -> None:
        self._params.append((trial_id, param_name, param_value_internal, distribution))

    def write(self) -> None:
        backend = getattr(self._storage, "_backend", self._storage)  # optuna wraps RDBStorage in _CachedStorage
        if not isinstance(backend, RDBStorage):
            for param in self._params:
                self._storage.set_trial_param(*param)
        elif self._params:
            self._insert_together(backend)
        self._params = []

    def _insert_together(self, storage: RDBStorage) -> None:
        trials, params = models.TrialModel.__table__, models.TrialParamModel.__table__
        trial_id = self._params[0][0]
        try:
            with storage.engine.begin() as conn:
                study_id, state = conn.execute(
                    sqlalchemy.select(trials.c.study_id, trials.c.state).where(trials.c.trial_id == trial_id)
                ).one()
                storage.check_trial_is_updatable(trial_id, state)
                rows = []
                for _, name, value, distribution in self._params:
                    previous = self._known.get(name) or self._stored_distribution(conn, study_id, name)
                    if previous is not None:
                        check_distribution_compatibility(previous, distribution)
                    self._known.setdefault(name, distribution)
                    rows.append({"trial_id": trial_id, "param_name": name, "param_value": value,
                                 "distribution_json": distribution_to_json(distribution)})
                conn.execute(params.insert(), rows)
        except sqlalchemy.exc.SQLAlchemyError as exc:  # as optuna's own writes report it
            raise optuna.exceptions.StorageInternalError(f"storing trial {trial_id}'s parameters failed") from exc

    @staticmethod
    def _stored_distribution(conn: sqlalchemy.Connection, study_id: int, name: str) -> BaseDistribution | None:
        trials, params = models.TrialModel.__table__, models.TrialParamModel.__table__
        stored = conn.execute(
            sqlalchemy.select(params.c.distribution_json)
            .select_from(params.join(trials, trials.c.trial_id == params.c.trial_id))
            .where(trials.c.study_id == study_id, params.c.param_name == name)
            .limit(1)
        ).scalar()
        return None if stored is None else json_to_distribution(stored)


def insert_trial(storage: BaseStorage, study_id: int, system_attrs: dict[str, Any]) -> FrozenTrial | None:
    """Create a running trial holding ``system_attrs``, in one transaction; the trial as stored.

    What optuna's ``create_new_trial`` does with a template trial, as optuna numbers trials
    (its count of the study's earlier trials, under a lock on the study's row), in a few
    plain statements instead of the ORM's seven round trips. ``None`` if ``storage`` is not
    an RDB storage: create the trial with optuna's own call then.
    """
    backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
    if not isinstance(backend, RDBStorage):
        return None
    studies, trials = models.StudyModel.__table__, models.TrialModel.__table__
    attrs = models.TrialSystemAttributeModel.__table__
    started = datetime.datetime.now()
    try:
        with backend.engine.begin() as conn:
            conn.execute(sqlalchemy.select(studies.c.study_id).where(studies.c.study_id == study_id).with_for_update())
            inserted = conn.execute(trials.insert().values(
                number=None, study_id=study_id, state=TrialState.RUNNING, datetime_start=started,
            ))
            trial_id = int(inserted.inserted_primary_key[0])
            number = conn.execute(sqlalchemy.select(sqlalchemy.func.count(trials.c.trial_id)).where(
                trials.c.study_id == study_id, trials.c.trial_id < trial_id
            )).scalar_one()
            conn.execute(trials.update().where(trials.c.trial_id == trial_id).values(number=number))
            if system_attrs:
                conn.execute(attrs.insert(), [{"trial_id": trial_id, "key": k, "value_json": json.dumps(v)}
                                              for k, v in system_attrs.items()])
    except sqlalchemy.exc.SQLAlchemyError as exc:  # as optuna's own writes report it
        raise optuna.exceptions.StorageInternalError(f"creating a trial in study {study_id} failed") from exc
    return FrozenTrial(
        number=int(number), state=TrialState.RUNNING, value=None, datetime_start=started, datetime_complete=None,
        params={}, distributions={}, user_attrs={}, system_attrs=dict(system_attrs), intermediate_values={},
        trial_id=trial_id,
    )
