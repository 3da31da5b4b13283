"""The trial note a person sees: the output and a table of its parameters."""

from __future__ import annotations

from collections.abc import Mapping
import mimetypes
from typing import Any

from optuna.storages import BaseStorage
from optuna_dashboard._note import save_note_with_version


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


def write_note(storage: BaseStorage, *, study_id: int, trial_id: int, body: str) -> None:
    """Save the first version of a new trial's note.

    ``optuna_dashboard.save_note`` reads every study system attribute to find the next
    version, which grows with the study; a trial hitl just made has no note yet, so its
    version is 1 and the same storage records are written without that read.
    """
    save_note_with_version(storage, study_id, trial_id, 1, body)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
