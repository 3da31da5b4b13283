"""Colour grading of a real photograph: exposure, contrast, saturation, white balance, gamma."""

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


__all__ = ["PHOTO", "PhotoGenerator"]

PHOTO = Path(__file__).with_name("data") / "coffee.jpg"  # CC0; see data/coffee.txt

NEUTRAL: dict[str, float] = {  # the value of each parameter that leaves the photo as shot
    "exposure": 0.0,  # stops: x2 light per +1
    "contrast": 0.0,  # slope of the tone curve at mid-grey is 1 + contrast (-1..0.5)
    "saturation": 0.0,  # -1 grey .. +1 twice the colourfulness
    "temperature": 0.0,  # -1 cool (blue) .. +1 warm (amber)
    "tint": 0.0,  # -1 green .. +1 magenta
    "gamma": 1.0,  # tone curve: above 1 lifts the mid-tones, below 1 darkens them
}
_WB_STRENGTH = 0.35  # white-balance gain at +-1: exp(0.35) ~ 1.42x on one side of the axis
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709 weights of linear light
_THUMBNAIL = 8  # the longer side of the picture :meth:`PhotoGenerator.features` grades: 8x5 pixels say the look


class PhotoGenerator(Generator):
    """A photograph colour-graded with up to six parameters, written as a PNG.

    The setting of Koyama et al.'s photo enhancement studies (Sequential Line Search, 2017):
    a person tunes the look of a photo with the sliders of any photo editor. Parameters the
    space leaves out stay neutral (:data:`NEUTRAL`). The grading runs in numpy on the
    photo's own pixels, a few milliseconds per render.

    Order of operations: white balance (``temperature``, ``tint``) and ``exposure`` scale
    linear light; then, on the display-encoded values, ``gamma`` bends the tone curve,
    ``contrast`` steepens it around mid-grey, and ``saturation`` moves each pixel away from
    (or towards) its own grey.

    Args:
        space: Ranges of any of ``exposure``, ``contrast``, ``saturation``, ``temperature``,
            ``tint``, ``gamma`` (floats).
        image: The photograph to grade (default: the shipped CC0 photo, :data:`PHOTO`).
        max_side: Shrink a larger photo so its longer side has this many pixels.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]], image: str | None = None, max_side: int = 480) -> None:
        super().__init__(space=space)
        unknown = set(self.space) - set(NEUTRAL)
        if unknown:
            raise HitlError(f"generator.space: unknown photo parameters {sorted(unknown)}; use any of {list(NEUTRAL)}")
        for name, spec in self.space.items():
            if "choices" in spec or (spec.get("type") == "int"):
                raise HitlError(f"generator.space.{name}: give a float {{low, high}} range")
        if "contrast" in self.space and not -1 <= self.space["contrast"]["low"] <= self.space["contrast"]["high"] <= 0.5:
            raise HitlError("generator.space.contrast: keep low and high within -1..0.5 (the tone curve stays monotone)")
        if "gamma" in self.space and self.space["gamma"]["low"] <= 0:
            raise HitlError("generator.space.gamma: keep low above 0")
        path = Path(image) if image else PHOTO
        if not path.is_file():
            raise HitlError(f"generator.image={path}: no such file")
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((max_side, max_side))
            encoded = np.asarray(img, dtype=np.float32) / 255.0
            small = img.copy()
            small.thumbnail((_THUMBNAIL, _THUMBNAIL), Image.BOX)
        self.image = str(path)
        self._linear = _decode(encoded)  # (h, w, 3) linear light
        self._small = _decode(np.asarray(small, dtype=np.float32).reshape(-1, 3) / 255.0)  # (pixels, 3)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of every rendered photo."""
        return self._linear.shape[1], self._linear.shape[0]

    def grade(self, params: Mapping[str, Any]) -> NDArray[np.uint8]:
        """The graded photo as an ``(h, w, 3)`` uint8 sRGB array (no file written)."""
        p = {k: np.array([float(v)]) for k, v in params.items() if k in NEUTRAL}
        return np.clip(np.rint(_grade(self._linear[None], p)[0] * 255.0), 0, 255).astype(np.uint8)

    def features(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float32]:
        """Each row of ``points`` (values of ``names``) as a thumbnail of its grading in DIN99o.

        Straight distance between these rows follows how different two gradings look (DIN99o
        is CIELAB reshaped so that straight distance follows CIEDE2000), with lightness and the
        two colour axes as parts a person may weigh differently (shape ``(len(points), pixels,
        3)``), so a sampler can measure a person's distance to their ideal grading as the person
        sees it (see :class:`hitl.samplers.OutputModel`).
        """
        points = np.asarray(points, dtype=np.float64).reshape(-1, len(names))
        value = _grade(self._small[None], {n: points[:, j] for j, n in enumerate(names) if n in NEUTRAL})
        lab = colorimetry.srgb8_to_lab(np.clip(np.rint(value * 255.0), 0, 255).astype(np.uint8))  # as rendered
        return colorimetry.lab_to_din99o(lab).reshape(len(points), -1, 3).astype(np.float32)

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "photo.png"
        Image.fromarray(self.grade(params)).save(path, compress_level=1)  # fast; lossless for the raters
        return path


def _grade(linear: NDArray[np.float32], params: Mapping[str, NDArray[np.float64]]) -> NDArray[np.float32]:
    """Display-encoded values (0..1) of ``linear`` (``(1, ..., 3)``) graded by each of ``n`` settings.

    ``params`` maps parameter names to arrays of ``n`` values (missing ones stay neutral); the
    result has shape ``(n, ..., 3)``.
    """
    n = len(next(iter(params.values()))) if params else 1
    p = {k: np.broadcast_to(np.asarray(params.get(k, v), dtype=np.float32), (n,)) for k, v in NEUTRAL.items()}
    shape = (n,) + (1,) * (linear.ndim - 1)  # one value per setting, broadcast over the pixels
    warm, tint = p["temperature"] * _WB_STRENGTH, p["tint"] * _WB_STRENGTH
    gains = np.exp(np.stack([warm + tint / 2, -tint, -warm + tint / 2], axis=-1)) * (2.0 ** p["exposure"])[:, None]
    value = _encode(np.clip(linear * gains.reshape(shape[:-1] + (3,)), 0.0, 1.0))
    value = value ** (1.0 / p["gamma"]).reshape(shape)
    value = _contrast(value, p["contrast"].reshape(shape))
    grey = (value @ _LUMA)[..., None]
    return grey + (value - grey) * (1.0 + p["saturation"]).reshape(shape)


def _contrast(value: NDArray[np.float32], amount: NDArray[np.float32]) -> NDArray[np.float32]:
    """A cubic through black, mid-grey and white with slope ``1 + amount`` at mid-grey.

    Monotone for ``amount`` in -1..0.5: an S-curve above 0, a flattening below, ends kept.
    """
    x = np.clip(value, 0.0, 1.0) * 2.0 - 1.0  # -1 .. 1
    x = x + amount * x * (1.0 - x * x)
    return (x + 1.0) / 2.0


def _decode(encoded: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _encode(linear: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)
