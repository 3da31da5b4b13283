"""The app's generator: a button-like label, its text and background colours from the parameters."""

from __future__ import annotations

import colorsys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from hitl.generators import Generator


class Label(Generator):
    """A ``width`` x ``height`` label reading ``text``: background ``hue`` and ``saturation``, text ``lightness``."""

    def __init__(self, *, space: dict, text: str = "Buy now", width: int = 240, height: int = 96) -> None:
        super().__init__(space=space)  # the search space stays data in the YAML file
        self.text, self.width, self.height = text, width, height

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        background = _rgb(params["hue"], params["saturation"], 0.5)
        ink = _rgb(params["hue"], 0.0, params["lightness"])  # grey text at the chosen lightness
        image = Image.new("RGB", (self.width, self.height), background)
        font = ImageFont.load_default(size=self.height // 3)  # ships with Pillow: no font files needed
        ImageDraw.Draw(image).text((self.width / 2, self.height / 2), self.text, fill=ink, font=font, anchor="mm")
        path = directory / "label.png"  # the suffix tells the note to show it as an image
        image.save(path)
        return path


def _rgb(hue: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue / 360, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)
