"""The outputs a person has seen or will see, so no picture is shown twice.

Samplers can propose a point already rated (optuna's GPSampler does, now and then), or two
points that render the same output (a colour space finer than the 8-bit pixels it becomes).
A person would rate the same thing twice. So each trial's output gets a fingerprint
(:meth:`hitl.generators.Generator.fingerprint`, by default a hash of the file), stored as a
study system attribute ``hitl:output:<fingerprint>`` naming the trial, together with the
trial's other records. A study holds each attribute key once: on a database the insert of
a second equal output fails by itself, so two workers can never both show it.
"""

from __future__ import annotations

from optuna.storages import BaseStorage
from optuna.trial import TrialState


__all__ = ["output_key", "shown_by"]

_PREFIX = "hitl:output:"


def output_key(fingerprint: str) -> str:
    """The study system attribute that records which trial shows this output."""
    return _PREFIX + fingerprint


def shown_by(storage: BaseStorage, study_id: int, fingerprint: str) -> int | None:
    """The id of the trial waiting, being made or rated with this output, if any.

    A failed trial's output was never rated (or, half-made, never shown): it does not count,
    and its record may be taken over.
    """
    trial_id = storage.get_study_system_attrs(study_id).get(output_key(fingerprint))
    if not isinstance(trial_id, int):
        return None
    return None if storage.get_trial(trial_id).state == TrialState.FAIL else trial_id
