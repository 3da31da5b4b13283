"""Scoring a colour output: its perceptual distance to a hidden target colour."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from hitl._errors import HitlError


__all__ = ["ColorDistance"]


class ColorDistance:
    """CIEDE2000 between an image's mean colour and a target colour, as a person would see them.

    It looks at the picture only, never at the parameters that made it.

    Args:
        target: The hidden target colour, sRGB 0..255.
    """

    def __init__(self, *, target: Sequence[float]) -> None:
        if len(target) != 3 or not all(0 <= c <= 255 for c in target):
            raise HitlError(f"evaluator.scorer.target={list(target)}: give an sRGB colour [r, g, b] in 0..255")
        from hitl import colorimetry  # noqa: PLC0415 - numpy-heavy maths only for simulated runs

        self._colorimetry = colorimetry
        self.target = np.asarray(target, dtype=float)
        self._target_lab = colorimetry.srgb_to_lab(self.target)

    def __call__(self, output: Path) -> float:
        with Image.open(output) as image:
            rgb = np.asarray(image.convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)
        c = self._colorimetry
        return float(c.delta_e_2000(c.srgb_to_lab(rgb), self._target_lab))
