"""A solid colour chosen in a perceptual colour space (DIN99o), shown as the sRGB it maps to."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from hitl import colorimetry
from hitl._errors import HitlError
from hitl.generators._base import Generator


__all__ = ["PerceptualColorGenerator"]

_AXES = ("L", "a", "b")
_BISECTION_STEPS = 30  # chroma halvings: 2^-30 of the chroma, far below one sRGB step


class PerceptualColorGenerator(Generator):
    """A ``width`` x ``height`` PNG of one colour given in DIN99o coordinates ``L``, ``a``, ``b``.

    DIN99o (DIN 6176) is CIELAB reshaped so that straight-line distance between two colours
    follows how different people find them; a sampler measuring distances between parameters
    then measures roughly what the person rating sees. ``L`` is lightness (0 black .. 100
    white), ``a`` green (-) to red (+), ``b`` blue (-) to yellow (+).

    The parameter box holds colours no screen shows. Gamut rule: such a colour is shown as the
    displayable colour of the same lightness and hue with the largest chroma (less saturated,
    never a different hue or lightness), then rounded to integer sRGB as the PNG stores it.
    :meth:`shown_points` and :meth:`output_keys` tell a sampler what is actually shown, so it
    can model the ratings of what a person saw and never show the same picture twice.

    Args:
        space: Ranges of ``L``, ``a`` and ``b`` (floats; ``L`` within 0..100).
        width: Image width in pixels.
        height: Image height in pixels.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]], width: int = 320, height: int = 240) -> None:
        super().__init__(space=space)
        missing = set(_AXES) - set(self.space)
        if missing:
            raise HitlError(f"generator.space lacks {sorted(missing)}: the perceptual colour generator needs L, a and b")
        for axis in _AXES:
            if "choices" in self.space[axis] or self.space[axis].get("log"):
                raise HitlError(f"generator.space.{axis}: give a linear {{low, high}} range, not choices or log")
        if not (0 <= self.space["L"]["low"] and self.space["L"]["high"] <= 100):
            raise HitlError("generator.space.L: keep low and high within 0..100 (DIN99o lightness)")
        if width < 1 or height < 1:
            raise HitlError(f"generator.width/height={width}x{height}: both must be at least 1")
        self.width = width
        self.height = height

    def rgb(self, params: Mapping[str, Any]) -> tuple[int, int, int]:
        """The integer sRGB colour shown for ``params``."""
        point = np.array([[float(params[axis]) for axis in _AXES]])
        r, g, b = din99o_to_rgb8(point)[0]
        return int(r), int(g), int(b)

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "color.png"
        Image.new("RGB", (self.width, self.height), self.rgb(params)).save(path)
        return path

    def output_keys(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.int64]:
        """One row per point: the integer sRGB shown; equal rows are identical pictures.

        Args:
            names: The parameter of each column of ``points``.
            points: Parameter values, shape ``(n, len(names))``.
        """
        return din99o_to_rgb8(_columns(names, points)).astype(np.int64)

    def distances(self, names: Sequence[str], a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        """How different the colours shown for points ``a`` and ``b`` look: CIEDE2000, pairwise.

        CIEDE2000 (CIE 142-2001) is the standard measure of perceived colour difference. DIN99o
        distances follow it closely up to about 25 but spread widely beyond (a CIEDE2000 of 30
        is a DIN99o distance of 28 to 48), where most early ratings are made.

        Args:
            names: The parameter of each column of ``a`` and ``b``.
            a: Parameter values, shape ``(n, len(names))``.
            b: Parameter values, shape ``(m, len(names))``.

        Returns:
            Shape ``(n, m)``.
        """
        lab_a, lab_b = self._labs(names, a), self._labs(names, b)
        return colorimetry.delta_e_2000(lab_a[:, None, :], lab_b[None, :, :])  # float32: within 1e-4

    def distance_parts(self, names: Sequence[str], a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`distances` squared, split into its lightness, chroma and hue parts.

        A person may see lightness, chroma or hue more or less than the standard observer; a
        sampler can weigh these parts to learn how this person sees.

        Returns:
            Shape ``(n, m, 3)``; the parts sum to ``distances(names, a, b) ** 2``.
        """
        lab_a, lab_b = self._labs(names, a), self._labs(names, b)
        return colorimetry.delta_e_2000_parts(lab_a[:, None, :], lab_b[None, :, :])

    def _labs(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float32]:
        """CIELAB of the colours shown (float32: differences within 1e-4)."""
        return colorimetry.srgb_to_lab(self.output_keys(names, points).astype(float)).astype(np.float32)

    def shown_points(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float64]:
        """The parameters of the colours actually shown (gamut-mapped, rounded to integer sRGB).

        Args:
            names: The parameter of each column of ``points``.
            points: Parameter values, shape ``(n, len(names))``.

        Returns:
            Same shape and column order as ``points``.
        """
        din = colorimetry.lab_to_din99o(colorimetry.srgb_to_lab(self.output_keys(names, points)))
        shown = np.array(points, dtype=float, copy=True)
        for j, name in enumerate(names):
            if name in _AXES:
                shown[:, j] = din[:, _AXES.index(name)]
        return shown


def din99o_to_rgb8(din: NDArray[np.float64]) -> NDArray[np.int64]:
    """DIN99o points ``(n, 3)`` to the integer sRGB shown, bringing outside colours into gamut.

    An out-of-gamut colour keeps its DIN99o lightness and hue and loses chroma (by bisection)
    until it is displayable; lightness is clipped to 0..100 first.
    """
    din = np.array(din, dtype=float, copy=True).reshape(-1, 3)
    din[:, 0] = np.clip(din[:, 0], 0.0, 100.0)
    outside = ~colorimetry.in_srgb_gamut(colorimetry.din99o_to_lab(din))
    if outside.any():
        low = np.zeros(int(outside.sum()))  # scale of the chroma known to be displayable
        high = np.ones_like(low)
        grey = din[outside].copy()
        for _ in range(_BISECTION_STEPS):
            mid = (low + high) / 2.0
            grey[:, 1:] = din[outside, 1:] * mid[:, None]
            ok = colorimetry.in_srgb_gamut(colorimetry.din99o_to_lab(grey))
            low = np.where(ok, mid, low)
            high = np.where(ok, high, mid)
        din[outside, 1:] *= low[:, None]
    rgb = colorimetry.lab_to_srgb(colorimetry.din99o_to_lab(din))
    return np.clip(np.rint(rgb), 0, 255).astype(np.int64)


def _columns(names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float64]:
    points = np.asarray(points, dtype=float).reshape(len(points), len(names))
    missing = [axis for axis in _AXES if axis not in names]
    if missing:
        raise ValueError(f"points lack the columns {missing}")
    return points[:, [list(names).index(axis) for axis in _AXES]]
