"""Keeping passwords out of logs and of the configs Hydra saves."""

from __future__ import annotations

import logging
from pathlib import Path

from hitl._errors import mask_secrets


__all__ = ["MaskSecrets", "scrub_saved_configs"]


class MaskSecrets(logging.Filter):
    """A logging filter that masks ``user:password@`` in every record.

    ``conf/config.yaml`` puts it on Hydra's handlers, so Hydra's own lines (a sweep
    lists each job's overrides) are masked as well as hitl's.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_secrets(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


def scrub_saved_configs(folder: Path) -> None:
    """Mask passwords in the YAML files Hydra saved for this run (``.hydra/``).

    Hydra saves configs unresolved, so a URL taken from an environment variable is never
    written; one typed as a command-line override would be, and is masked here.
    """
    if not folder.is_dir():
        return
    for path in folder.glob("*.yaml"):
        text = path.read_text()
        masked = mask_secrets(text)
        if masked != text:
            path.write_text(masked)
