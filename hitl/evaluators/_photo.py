"""Scoring a photo: mean per-pixel CIEDE2000 to a hidden target rendering."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from hitl import colorimetry
from hitl._errors import HitlError
from hitl.evaluators._target import target_file


__all__ = ["PhotoDistance"]


class PhotoDistance:
    """How different a picture looks from a hidden target picture: mean CIEDE2000 over pixels.

    It looks at the output file only, never at the parameters that made it. Pictures of
    another size are scaled to the target's first. CIEDE2000's parametric factors weigh its
    terms: a factor above 1 makes that kind of difference count less (``k_l=3.33`` counts
    lightness 0.3x), below 1 more (``k_h=0.33`` counts hue 3x).

    Args:
        target: The target picture's file, or parameter values that ``generator`` renders
            once (e.g. ``{exposure: 0.4, temperature: 0.6}``).
        generator: The generator of the outputs (``${generator}`` in the config); needed when
            ``target`` is parameters.
        k_l: Lightness factor.
        k_c: Chroma factor.
        k_h: Hue factor.
        scale: Compare at this fraction of the target's size (0.5: a quarter of the pixels,
            four times as fast; each pixel then the mean of four).
    """

    def __init__(self, *, target: str | Mapping[str, Any], generator: Any = None,
                 k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0, scale: float = 1.0) -> None:
        if not 0 < scale <= 1:
            raise HitlError(f"evaluator.rater.scorer.scale={scale}: give a fraction in (0, 1]")
        if min(k_l, k_c, k_h) <= 0:
            raise HitlError(f"evaluator.rater.scorer: k_l, k_c, k_h = {k_l}, {k_c}, {k_h}: each must be positive")
        self.k_l, self.k_c, self.k_h = k_l, k_c, k_h
        self.target_path = target_file(target, generator, key="evaluator.rater.scorer")
        with Image.open(self.target_path) as image:
            self.size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            self._target_lab = _lab(image, self.size)

    def __call__(self, output: Path) -> float:
        with Image.open(output) as image:
            lab = _lab(image, self.size)
        return float(colorimetry.delta_e_2000(lab, self._target_lab, self.k_l, self.k_c, self.k_h).mean())


def _lab(image: Image.Image, size: tuple[int, int]) -> NDArray[np.float32]:
    """CIELAB of every pixel at ``size``, in float32 (as :func:`hitl.colorimetry.srgb_to_lab`, within 1e-3)."""
    image = image.convert("RGB")
    if image.size != size:
        image = image.resize(size, Image.BOX if size[0] < image.width else Image.BILINEAR)
    return colorimetry.srgb8_to_lab(np.asarray(image).reshape(-1, 3))
