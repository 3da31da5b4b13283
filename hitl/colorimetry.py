"""Colour maths on numpy arrays: sRGB <-> CIELAB (D65), CIEDE2000, and the DIN99o space.

Every function takes arrays whose last axis holds the three channels and broadcasts over the
leading axes, so one call converts a single colour or a few thousand.

DIN99o (DIN 6176) is a reshaping of CIELAB in which plain Euclidean distance follows perceived
colour difference closely (it compresses chroma the way CIEDE2000's weighting does). It is the
coordinate system of :class:`hitl.generators.PerceptualColorGenerator`, so that a sampler
measuring distances between parameters measures roughly what a person sees.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from numpy.typing import NDArray


__all__ = [
    "D65_WHITE",
    "delta_e_2000",
    "delta_e_2000_parts",
    "din99o_to_lab",
    "in_srgb_gamut",
    "lab_to_din99o",
    "lab_to_srgb",
    "lab_to_srgb_linear",
    "srgb8_to_lab",
    "srgb_to_lab",
]

FloatArray = NDArray[np.float64]

D65_WHITE: tuple[float, float, float] = (0.95047, 1.0, 1.08883)
"""Reference white XYZ of CIELAB here: CIE D65, 2 degree observer, Y = 1."""

# IEC 61966-2-1 linear sRGB -> XYZ (D65).
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_TO_WHITE_XYZ = (_RGB_TO_XYZ / np.asarray(D65_WHITE)[:, None]).T.astype(np.float32)  # linear sRGB -> XYZ / white
_EPSILON = 216.0 / 24389.0  # CIE: (6/29)^3
_KAPPA = 24389.0 / 27.0  # CIE: (29/3)^3

# DIN99o constants (DIN 6176:2001).
_DIN_ANGLE = np.deg2rad(26.0)
_DIN_L_SCALE = 303.67
_DIN_L_K = 0.0039
_DIN_F = 0.83
_DIN_C_K = 0.075
_DIN_C_SCALE = 0.0435


def _decode(rgb: ArrayLike) -> FloatArray:
    """sRGB 0..255 -> linear-light 0..1 (the sRGB transfer function, inverted)."""
    c = np.asarray(rgb, dtype=float) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _encode(linear: ArrayLike) -> FloatArray:
    """Linear-light 0..1 -> sRGB 0..255 (values outside 0..1 are clipped first)."""
    c = np.clip(np.asarray(linear, dtype=float), 0.0, 1.0)
    return 255.0 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1.0 / 2.4) - 0.055)


_LINEAR8 = _decode(np.arange(256)).astype(np.float32)  # each 8-bit level's linear light


def srgb_to_lab(rgb: ArrayLike) -> FloatArray:
    """Convert sRGB colours to CIELAB (D65 white).

    Args:
        rgb: sRGB values on the 0..255 scale (integers or floats), shape ``(..., 3)``.

    Returns:
        ``L*, a*, b*`` with the same leading shape; white is ``(100, 0, 0)``.
    """
    xyz = _decode(rgb) @ _RGB_TO_XYZ.T
    ratio = xyz / np.asarray(D65_WHITE)
    f = np.where(ratio > _EPSILON, np.cbrt(ratio), (_KAPPA * ratio + 16.0) / 116.0)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def srgb8_to_lab(rgb: ArrayLike) -> NDArray[np.float32]:
    """:func:`srgb_to_lab` of 8-bit sRGB values (``uint8``, shape ``(..., 3)``), fast, in float32 (within 1e-3)."""
    ratio = _LINEAR8[np.asarray(rgb, dtype=np.uint8)] @ _TO_WHITE_XYZ
    f = np.where(ratio > _EPSILON, np.cbrt(ratio), (_KAPPA * ratio + 16.0) / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])],
                    axis=-1).astype(np.float32)


def lab_to_srgb_linear(lab: ArrayLike) -> FloatArray:
    """Convert CIELAB (D65) to linear-light sRGB, unclipped (out-of-gamut colours leave 0..1).

    Args:
        lab: ``L*, a*, b*``, shape ``(..., 3)``.

    Returns:
        Linear sRGB, shape ``(..., 3)``; a colour is displayable when every channel is in 0..1.
    """
    lab = np.asarray(lab, dtype=float)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    f = np.stack([fx, fy, fz], axis=-1)
    ratio = np.where(f**3 > _EPSILON, f**3, (116.0 * f - 16.0) / _KAPPA)
    xyz = ratio * np.asarray(D65_WHITE)
    return xyz @ _XYZ_TO_RGB.T


def in_srgb_gamut(lab: ArrayLike, tolerance: float = 1e-9) -> NDArray[np.bool_]:
    """Whether CIELAB colours can be shown on an sRGB display without clipping.

    Args:
        lab: ``L*, a*, b*``, shape ``(..., 3)``.
        tolerance: Slack on the 0..1 linear range, for colours on the gamut's surface.

    Returns:
        Booleans with the leading shape of ``lab``.
    """
    linear = lab_to_srgb_linear(lab)
    return np.all((linear >= -tolerance) & (linear <= 1.0 + tolerance), axis=-1)


def lab_to_srgb(lab: ArrayLike) -> FloatArray:
    """Convert CIELAB (D65) to sRGB 0..255 floats; out-of-gamut channels are clipped.

    Clipping each channel is the crude gamut rule; callers that care (such as the perceptual
    colour generator) first bring the colour into gamut, and use this only for the encoding.

    Args:
        lab: ``L*, a*, b*``, shape ``(..., 3)``.

    Returns:
        sRGB on the 0..255 scale (floats; round them to get the displayed integers).
    """
    return _encode(lab_to_srgb_linear(lab))


def lab_to_din99o(lab: ArrayLike) -> FloatArray:
    """Convert CIELAB to DIN99o ``L99o, a99o, b99o`` (DIN 6176), where Euclidean distance is perceptual.

    Args:
        lab: ``L*, a*, b*``, shape ``(..., 3)``.

    Returns:
        DIN99o coordinates; ``L99o`` runs 0..100 like ``L*``.
    """
    lab = np.asarray(lab)
    lab = lab if lab.dtype == np.float32 else lab.astype(float)  # float32 stays float32: a photo's thumbnails, fast
    lightness = _DIN_L_SCALE * np.log1p(_DIN_L_K * lab[..., 0])
    cos, sin = math.cos(_DIN_ANGLE), math.sin(_DIN_ANGLE)  # Python floats keep float32 arrays float32
    e = lab[..., 1] * cos + lab[..., 2] * sin
    f = _DIN_F * (lab[..., 2] * cos - lab[..., 1] * sin)
    g = np.hypot(e, f)
    # the chroma's new length along the same direction, turned back by the angle (no atan2, cos, sin per colour)
    with np.errstate(invalid="ignore", divide="ignore"):
        stretch = np.where(g > 0, np.log1p(_DIN_C_K * g) / (_DIN_C_SCALE * g), _DIN_C_K / _DIN_C_SCALE).astype(lab.dtype)
    return np.stack([lightness, stretch * (e * cos - f * sin), stretch * (f * cos + e * sin)], axis=-1)


def din99o_to_lab(din: ArrayLike) -> FloatArray:
    """Convert DIN99o ``L99o, a99o, b99o`` back to CIELAB (the exact inverse of :func:`lab_to_din99o`).

    Args:
        din: DIN99o coordinates, shape ``(..., 3)``.

    Returns:
        ``L*, a*, b*`` with the same shape.
    """
    din = np.asarray(din, dtype=float)
    lightness = np.expm1(din[..., 0] / _DIN_L_SCALE) / _DIN_L_K
    chroma = np.hypot(din[..., 1], din[..., 2])
    hue = np.arctan2(din[..., 2], din[..., 1]) - _DIN_ANGLE
    g = np.expm1(_DIN_C_SCALE * chroma) / _DIN_C_K
    e = g * np.cos(hue)
    f = g * np.sin(hue) / _DIN_F
    cos, sin = np.cos(_DIN_ANGLE), np.sin(_DIN_ANGLE)
    a = e * cos - f * sin
    b = e * sin + f * cos
    return np.stack([lightness, a, b], axis=-1)


def delta_e_2000(lab1: ArrayLike, lab2: ArrayLike, k_l: float = 1.0, k_c: float = 1.0, k_h: float = 1.0) -> FloatArray:
    """CIEDE2000 colour difference, following Sharma, Wu & Dalal (2005).

    Args:
        lab1: First colours, CIELAB, shape ``(..., 3)``.
        lab2: Second colours, broadcastable against ``lab1``.
        k_l: Lightness weight (1 for the reference conditions).
        k_c: Chroma weight.
        k_h: Hue weight.

    Returns:
        The differences, with the broadcast leading shape (a 0-d array for two single colours).
    """
    tl, tc, th, r_t = _terms(lab1, lab2)
    tl, tc, th = tl / k_l, tc / k_c, th / k_h
    return np.sqrt(tl**2 + tc**2 + th**2 + r_t * tc * th)


def delta_e_2000_parts(lab1: ArrayLike, lab2: ArrayLike) -> FloatArray:
    """CIEDE2000's square split into its lightness, chroma and hue parts, shape ``(..., 3)``.

    The parts sum to ``delta_e_2000(lab1, lab2) ** 2``; the rotation term (which couples chroma
    and hue, in the blues) is shared half and half between them. Weighing the parts measures
    colours as a person would who sees lightness, chroma or hue more or less than the standard
    observer.
    """
    tl, tc, th, r_t = _terms(lab1, lab2)
    shared = 0.5 * r_t * tc * th
    return np.stack([tl**2, tc**2 + shared, th**2 + shared], axis=-1)


def _terms(lab1: ArrayLike, lab2: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """CIEDE2000's lightness, chroma and hue terms at k = 1, and its rotation factor."""
    # float32 in, float32 out (twice as fast, within 1e-4); anything else is computed in float64
    dtype = np.result_type(np.asarray(lab1).dtype, np.asarray(lab2).dtype, np.float32)
    lab1 = np.asarray(lab1, dtype=dtype)
    lab2 = np.asarray(lab2, dtype=dtype)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0
    c7 = c_mean**7
    g = 0.5 * (1.0 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    # Hues in float64 whatever the input: the mean hue jumps by 180 degrees where the two hues are
    # 180 apart, and float32 rounding of arctan2 (which varies with numpy's SIMD code) picks a side.
    h1p = np.degrees(np.arctan2(b1.astype(np.float64), a1p.astype(np.float64))) % 360.0
    h2p = np.degrees(np.arctan2(b2.astype(np.float64), a2p.astype(np.float64))) % 360.0
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, h1p)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, h2p)

    d_l = l2 - l1
    d_c = c2p - c1p
    chroma_product = c1p * c2p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_product == 0, 0.0, dh)
    d_h = (2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dh) / 2.0)).astype(dtype)

    l_mean = (l1 + l2) / 2.0
    cp_mean = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180.0, h_sum / 2.0, np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0)
    )
    h_mean = np.where(chroma_product == 0, h_sum, h_mean).astype(dtype)

    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    cp7 = cp_mean**7
    r_c = 2.0 * np.sqrt(cp7 / (cp7 + 25.0**7))
    l50 = (l_mean - 50.0) ** 2
    s_l = 1.0 + 0.015 * l50 / np.sqrt(20.0 + l50)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c

    return d_l / s_l, d_c / s_c, d_h / s_h, r_t
