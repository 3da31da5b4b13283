"""Test-only parts: outputs and uploads that take long enough to be killed in the middle."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import time
from typing import Any, BinaryIO

from hitl.artifacts import FileSystemArtifactStore
from hitl.generators import ColorGenerator


class SlowColor(ColorGenerator):
    """The tutorial's colours, rendered in ``seconds`` (a diffusion model stands in here)."""

    def __init__(self, *, seconds: float = 0.2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        time.sleep(self.seconds)
        return super().render(params, directory)


class SlowStore(FileSystemArtifactStore):
    """A file-system store whose uploads take ``seconds``, like a network store."""

    def __init__(self, *, seconds: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        time.sleep(self.seconds)
        super().write(artifact_id, content_body)
