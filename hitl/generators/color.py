"""The Optuna Dashboard tutorial's generator: a solid colour image from r, g, b."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from hitl._errors import HitlError
from hitl.generators._base import Generator


__all__ = ["ColorGenerator"]


class ColorGenerator(Generator):
    """A ``width`` x ``height`` PNG filled with the colour ``(r, g, b)``.

    Args:
        space: Ranges of ``r``, ``g`` and ``b``, each within 0..255.
        width: Image width in pixels.
        height: Image height in pixels.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]], width: int = 320, height: int = 240) -> None:
        super().__init__(space=space)
        missing = {"r", "g", "b"} - set(self.space)
        if missing:
            raise HitlError(f"generator.space lacks {sorted(missing)}: the colour generator needs r, g and b")
        for channel in "rgb":
            spec = self.space[channel]
            if "choices" not in spec and not (0 <= spec["low"] and spec["high"] <= 255):
                raise HitlError(f"generator.space.{channel}: keep low and high within 0..255")
        if width < 1 or height < 1:
            raise HitlError(f"generator.width/height={width}x{height}: both must be at least 1")
        self.width = width
        self.height = height

    def rgb(self, params: Mapping[str, Any]) -> tuple[int, int, int]:
        """The integer sRGB colour shown for ``params``."""
        r, g, b = (int(round(params[c])) for c in "rgb")
        return r, g, b

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "color.png"
        Image.new("RGB", (self.width, self.height), self.rgb(params)).save(path)
        return path
