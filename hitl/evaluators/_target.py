"""The hidden target of a simulated rater: a file, or parameter values the generator renders once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import shutil
import tempfile
from typing import Any

from hitl._errors import HitlError


__all__ = ["target_file"]


def target_file(target: str | Mapping[str, Any], generator: Any, *, key: str) -> Path:
    """A private copy of the target output, made once when the scorer is built.

    Args:
        target: A file path, or the parameters whose rendering the rater wants.
        generator: The generator that renders parameters (any :class:`hitl.generators.Generator`);
            needed only when ``target`` is parameters.
        key: The config key, for error messages.

    Returns:
        A file in a fresh temporary folder (the caller may keep it for the process's life).
    """
    folder = Path(tempfile.mkdtemp(prefix="hitl-target-"))
    if isinstance(target, Mapping):
        if generator is None or not hasattr(generator, "render"):
            raise HitlError(f"{key}.generator: give the generator that renders the target parameters (e.g. ${{generator}})")
        return Path(generator.render(dict(target), folder))
    path = Path(str(target)).expanduser()
    if not path.is_file():
        raise HitlError(f"{key}.target={target}: no such file; give a file or the generator's parameters")
    return Path(shutil.copy(path, folder / path.name))
