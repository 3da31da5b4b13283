"""Scoring a colour output: its distance to the nearest of one or more hidden target colours."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from hitl._errors import HitlError


__all__ = ["ColorDistance", "SrgbDistance"]


class ColorDistance:
    """CIEDE2000 between an image's mean colour and a target colour, as a person would see them.

    It looks at the picture only, never at the parameters that made it. With several target
    colours, the distance to the nearest one: a person who likes either of two colours.
    CIEDE2000's parametric factors weigh its terms: above 1 a kind of difference counts less
    (``k_l=3.33``: lightness counts 0.3x), below 1 more (``k_h=0.33``: hue counts 3x).

    Args:
        target: The hidden target colour, sRGB 0..255, or a list of such colours.
        k_l: Lightness factor.
        k_c: Chroma factor.
        k_h: Hue factor.
    """

    def __init__(self, *, target: Sequence[float] | Sequence[Sequence[float]],
                 k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0) -> None:
        if min(k_l, k_c, k_h) <= 0:
            raise HitlError(f"evaluator.scorer: k_l, k_c, k_h = {k_l}, {k_c}, {k_h}: each must be positive")
        from hitl import colorimetry  # noqa: PLC0415 - numpy-heavy maths only for simulated runs

        self._colorimetry = colorimetry
        self.targets = _targets(target)
        self.target = self.targets[0]
        self.k_l, self.k_c, self.k_h = k_l, k_c, k_h
        self._target_lab = colorimetry.srgb_to_lab(self.targets)

    def __call__(self, output: Path) -> float:
        c = self._colorimetry
        lab = c.srgb_to_lab(mean_colour(output))
        return float(c.delta_e_2000(lab, self._target_lab, self.k_l, self.k_c, self.k_h).min())


class SrgbDistance:
    """Straight-line distance between an image's mean colour and the nearest target, in sRGB 0..255.

    A rater who judges by the numbers, not by eye: equal steps in sRGB look very unequal to
    people (a step in dark blue is far more visible than one in bright green), so it
    disagrees with every perceptual model. Distances run 0..441.7 (black to white).

    Args:
        target: The hidden target colour, sRGB 0..255, or a list of such colours.
    """

    def __init__(self, *, target: Sequence[float] | Sequence[Sequence[float]]) -> None:
        self.targets = _targets(target)
        self.target = self.targets[0]

    def __call__(self, output: Path) -> float:
        return float(np.linalg.norm(self.targets - mean_colour(output), axis=-1).min())


def mean_colour(output: Path) -> NDArray[np.float64]:
    """The mean sRGB colour (0..255) of an image file."""
    with Image.open(output) as image:
        return np.asarray(image.convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)


def _targets(target: Sequence[float] | Sequence[Sequence[float]]) -> NDArray[np.float64]:
    try:
        targets = np.asarray(target, dtype=float)
    except (TypeError, ValueError):
        targets = np.empty((0,))
    if targets.ndim == 1:
        targets = targets[None, :]
    if targets.ndim != 2 or targets.shape[1] != 3 or len(targets) == 0 or not ((0 <= targets) & (targets <= 255)).all():
        raise HitlError(f"evaluator.scorer.target={_plain(target)}: give an sRGB colour [r, g, b] in 0..255, "
                        "or a list of them")
    return targets


def _plain(target: object) -> object:
    return [_plain(t) for t in target] if isinstance(target, Sequence) and not isinstance(target, str) else target
