"""A custom generator: vertical stripes of two colours, rated like the tutorial's colours."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PIL import ImageDraw

from hitl.generators import Generator


class Stripes(Generator):
    """Stripes ``width`` pixels wide, alternating a hue and its complement."""

    def __init__(self, *, space: dict, size: int = 240) -> None:
        super().__init__(space=space)  # the search space stays data in the YAML file
        self.size = size

    def render(self, params: dict, directory: Path) -> Path:
        image = Image.new("HSV", (self.size, self.size), (int(params["hue"]), 255, 255))
        draw = ImageDraw.Draw(image)
        complement = (int(params["hue"]) + 128) % 256
        for x in range(0, self.size, 2 * params["width"]):
            draw.rectangle([x, 0, x + params["width"] - 1, self.size], fill=(complement, 255, 255))
        path = directory / "stripes.png"  # the suffix tells the note to show it as an image
        image.convert("RGB").save(path)
        return path
