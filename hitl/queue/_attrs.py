"""The attributes hitl stores on a trial, beside optuna's own."""

from __future__ import annotations


__all__ = ["ARTIFACT_ATTR_PREFIX", "ERROR_ATTR", "READY_ATTR"]

ARTIFACT_ATTR_PREFIX = "artifacts:"  # trial system attrs optuna.artifacts.upload_artifact writes
READY_ATTR = "hitl:ready"  # trial system attr, written last: output and note are stored
ERROR_ATTR = "hitl:error"  # trial user attr: why hitl failed the trial

