"""The trial note a person sees: the output and a table of its parameters."""

from __future__ import annotations

from collections.abc import Mapping
import mimetypes
from typing import Any

from optuna.storages import BaseStorage
from optuna_dashboard._note import note_ver_key
from optuna_dashboard._note import split_body


def note_body(*, number: int, url: str, filename: str, params: Mapping[str, Any]) -> str:
    """Markdown for one trial: images inline, any other output as a link."""
    mime = mimetypes.guess_type(filename)[0] or ""
    if mime.startswith("image/"):
        shown = f"![output of trial {number}]({url})"
    elif mime.startswith("audio/") or mime.startswith("video/"):
        shown = f"[▶ play the output of trial {number}]({url})"
    else:
        shown = f"[open the output of trial {number}]({url})"
    rows = "\n".join(f"| {name} | {_fmt(value)} |" for name, value in params.items())
    return f"## Trial {number}\n\n{shown}\n\n| parameter | value |\n|---|---|\n{rows}\n"


def note_records(*, trial_id: int, body: str) -> dict[str, Any]:
    """The study system attributes optuna-dashboard stores a trial's first note version in.

    The same records ``optuna_dashboard.save_note`` writes for a trial without a note: the
    version, 1, then the body in chunks of the dashboard's attribute size. ``save_note`` also
    reads every study system attribute, twice (to find the next version, and to blank chunks a
    longer earlier version left); the study holds every trial's note there, so that read grows
    with the study. A trial hitl just made has no note yet: its version is 1, nothing to blank.
    """
    return {note_ver_key(trial_id): 1, **split_body(body, trial_id)}


def write_note(storage: BaseStorage, *, study_id: int, trial_id: int, body: str) -> None:
    """Save the first version of a new trial's note (:func:`note_records`), reading nothing."""
    for key, value in note_records(trial_id=trial_id, body=body).items():
        storage.set_study_system_attr(study_id, key, value)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
