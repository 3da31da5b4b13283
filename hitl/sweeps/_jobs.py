"""Multirun support: per-job study names, per-job result files, the sweep's shared dashboard."""

from __future__ import annotations

from datetime import datetime
import hashlib
import json
import logging
import os
from pathlib import Path
import re
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
import optuna
from optuna.trial import TrialState

from hitl._errors import mask_secrets
from hitl.queue._compare import is_preferential


__all__ = ["RESULT_FILE", "sweep_dashboard_url", "sweep_study_name", "write_job_result"]

_log = logging.getLogger("hitl")

RESULT_FILE = "hitl_result.json"  # one per job, read by the sweep report
DASHBOARD_ENV = "HITL_SWEEP_DASHBOARD"  # set by the sweep's dashboard for its jobs
SWEEP_ID_ENV = "HITL_SWEEP_ID"  # set when a sweep starts: unique even when its folder is reused


def new_sweep_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S.%f")[:-3]


def _multirun() -> Any | None:
    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    return hc if hc.mode == RunMode.MULTIRUN else None


def sweep_study_name(base: str) -> str:
    """In a sweep, ``<base>@<sweep id>:#<job number>:<the job's overrides>``; otherwise ``base``.

    The sweep id (when the sweep started, to the millisecond) keeps reruns and other sweeps apart; the
    overrides tell the jobs of one sweep apart and say what each one ran. Characters a study name
    may not hold become ``_`` (``..`` becomes ``._``), and a name over 300 characters is cut and
    ends in a hash of the whole.
    """
    hc = _multirun()
    if hc is None:
        return base
    sweep_id = os.environ.get(SWEEP_ID_ENV) or "_".join(Path(hc.sweep.dir).parts[-2:])
    # the job number keeps jobs apart even when override_dirname leaves out what differs (seeds...)
    name = f"{base}@{sweep_id}:#{hc.job.num}:{mask_secrets(hc.job.override_dirname)}"
    whole = name
    # the overrides may hold paths, any character and any length; the name keeps to the alphabet
    # and length hitl.app's check_study_name allows
    name = re.sub(r"[^A-Za-z0-9 _.,:=+@#\[\]-]", "_", name).replace("..", "._")
    if len(name) > 300:  # cut, with a hash of the whole so names stay apart and say the cut is there
        name = f"{name[:280]}-{hashlib.sha1(whole.encode()).hexdigest()[:12]}"
    return name


def sweep_dashboard_url() -> str | None:
    """The dashboard the sweep serves for all its jobs, if this is one of its jobs."""
    return os.environ.get(DASHBOARD_ENV) if _multirun() is not None else None


def write_job_result(study: optuna.Study, rater: Any) -> Path | None:
    """Write what the sweep report needs into this job's Hydra output folder.

    Ratings are listed in the order they were made, with the simulated rater's noise-free
    distance where there is one.
    """
    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    from hitl.evaluators import DISTANCE_ATTR  # noqa: PLC0415 - evaluators import the loop

    rated = study._storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.COMPLETE,))
    rated = sorted(rated, key=lambda t: (t.datetime_complete, t.number))
    overrides = [mask_secrets(str(o)) for o in hc.overrides.task]  # a typed storage.url may hold a password
    result = {
        "sweep_id": os.environ.get(SWEEP_ID_ENV),
        "study_name": study.study_name,
        "overrides": overrides,
        # what the job tested: its overrides but the seed and the knobs hydra.job.config excludes
        "setting": ",".join(o for o in mask_secrets(hc.job.override_dirname).split(",") if o and not o.startswith("seed="))
        or "(defaults)",
        "success": getattr(rater, "success", None),
        "ratings": [
            {"number": t.number, "values": t.values, "distance": t.user_attrs.get(DISTANCE_ATTR)} for t in rated
        ],
    }
    if is_preferential(study):  # a person's clicks are its choices: each one saw the best of its candidates
        result["ratings"] = _choices(study, DISTANCE_ATTR)
    path = Path(hc.runtime.output_dir) / RESULT_FILE
    path.write_text(json.dumps(result, indent=1))
    return path


def _choices(study: optuna.Study, distance_attr: str) -> list[dict[str, Any]]:
    """One record per choice, in the order made: the worst chosen, and the best distance on show."""
    attrs = study._storage.get_study_system_attrs(study._study_id)
    histories = [json.loads(v) if isinstance(v, str) else v for k, v in attrs.items() if k.startswith("preference:history")]
    trials = study._storage.get_all_trials(study._study_id, deepcopy=False)
    records = []
    for h in sorted(histories, key=lambda h: h["timestamp"]):
        shown = [trials[n].user_attrs.get(distance_attr) for n in h["candidates"]]
        known = [d for d in shown if d is not None]
        records.append({"number": h["clicked"], "values": None, "distance": min(known) if known else None})
    return records
