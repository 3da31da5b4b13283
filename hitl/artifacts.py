"""Artifact stores with behaviour optuna's lacks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from optuna.artifacts import FileSystemArtifactStore as _OptunaFileSystemArtifactStore

from hitl._errors import HitlError


__all__ = ["FileSystemArtifactStore"]


class FileSystemArtifactStore(_OptunaFileSystemArtifactStore):
    """Optuna's file-system store, checked at start and creating its folder on first write.

    Creating the folder lazily means a run that fails on bad input leaves no empty folder;
    checking at start means an unwritable path fails before any trial is made.

    Args:
        base_path: The folder; ``optuna-dashboard --artifact-dir`` takes the same path.
    """

    def __init__(self, *, base_path: str | Path) -> None:
        path = Path(base_path).expanduser().absolute()
        existing = path
        while not existing.exists():
            existing = existing.parent
        if existing != path and not existing.is_dir():
            raise HitlError(f"artifacts.base_path={base_path}: {existing} is a file, not a folder")
        if path.exists() and not path.is_dir():
            raise HitlError(f"artifacts.base_path={base_path}: it is a file; give a folder path")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise HitlError(f"artifacts.base_path={base_path}: {existing} is not writable; give a writable folder")
        super().__init__(base_path=path)

    @property
    def base_path(self) -> Path:
        return self._base_path

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._base_path.mkdir(parents=True, exist_ok=True)
        super().write(artifact_id, content_body)
