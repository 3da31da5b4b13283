"""hitl.colorimetry: CIEDE2000 against Sharma, Wu & Dalal's published pairs; sRGB <-> CIELAB; DIN99o."""

from __future__ import annotations

import numpy as np
import pytest

from hitl import colorimetry


# G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Color Res. Appl. 30(1), 2005, table 1:
# L1, a1, b1, L2, a2, b2, dE00 (all 34 pairs).
SHARMA_2005 = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


@pytest.mark.parametrize("row", SHARMA_2005, ids=[f"pair{i + 1}" for i in range(len(SHARMA_2005))])
def test_ciede2000_matches_sharma_pairs(row: tuple[float, ...]) -> None:
    lab1, lab2, expected = row[:3], row[3:6], row[6]
    assert round(float(colorimetry.delta_e_2000(lab1, lab2)), 4) == expected
    assert round(float(colorimetry.delta_e_2000(lab2, lab1)), 4) == expected  # symmetric


def test_ciede2000_is_vectorized_and_broadcasts() -> None:
    table = np.array(SHARMA_2005)
    got = colorimetry.delta_e_2000(table[:, :3], table[:, 3:6])
    assert got.shape == (34,)
    np.testing.assert_allclose(got, table[:, 6], atol=5e-5)
    one_to_many = colorimetry.delta_e_2000(table[0, :3], table[:, 3:6])
    assert one_to_many.shape == (34,)
    assert float(colorimetry.delta_e_2000([50, 10, 10], [50, 10, 10])) == 0.0


def test_ciede2000_in_float32_stays_within_a_thousandth() -> None:
    table = np.array(SHARMA_2005, dtype=np.float32)
    got = colorimetry.delta_e_2000(table[:, :3], table[:, 3:6])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(SHARMA_2005)[:, 6], atol=1e-3)
    assert colorimetry.delta_e_2000(table[:, :3], np.array(SHARMA_2005)[:, 3:6]).dtype == np.float64  # mixed: float64


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.2408, 80.0925, 67.2032)),
        ((0, 255, 0), (87.7347, -86.1827, 83.1793)),
        ((0, 0, 255), (32.2970, 79.1875, -107.8602)),
        ((128, 128, 128), (53.5850, 0.0, 0.0)),
    ],
)
def test_srgb_to_lab_known_values(rgb: tuple[int, int, int], lab: tuple[float, float, float]) -> None:
    np.testing.assert_allclose(colorimetry.srgb_to_lab(rgb), lab, atol=2e-3)


def test_round_trips_through_lab_and_din99o() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5000, 3))
    lab = colorimetry.srgb_to_lab(rgb)
    assert lab.shape == (5000, 3)
    np.testing.assert_allclose(colorimetry.lab_to_srgb(lab), rgb, atol=1e-6)
    assert colorimetry.in_srgb_gamut(lab).all()
    din = colorimetry.lab_to_din99o(lab)
    np.testing.assert_allclose(colorimetry.din99o_to_lab(din), lab, atol=1e-9)
    np.testing.assert_allclose(colorimetry.lab_to_din99o([100, 0, 0]), [100, 0, 0], atol=1e-3)


def test_out_of_gamut_is_detected_and_clipped() -> None:
    too_vivid = np.array([50.0, 120.0, -120.0])
    assert not colorimetry.in_srgb_gamut(too_vivid)
    shown = colorimetry.lab_to_srgb(too_vivid)
    assert ((shown >= 0) & (shown <= 255)).all()


def test_din99o_distance_follows_ciede2000_better_than_cielab() -> None:
    """Why the perceptual generator uses DIN99o: its straight-line distance tracks CIEDE2000."""
    rng = np.random.default_rng(1)
    lab1, lab2 = colorimetry.srgb_to_lab(rng.integers(0, 256, (2, 20000, 3)))
    de00 = colorimetry.delta_e_2000(lab1, lab2)
    near = de00 < 40
    din = np.linalg.norm(colorimetry.lab_to_din99o(lab1) - colorimetry.lab_to_din99o(lab2), axis=1)
    cielab = np.linalg.norm(lab1 - lab2, axis=1)
    r_din = np.corrcoef(din[near], de00[near])[0, 1]
    r_lab = np.corrcoef(cielab[near], de00[near])[0, 1]
    assert r_din > 0.9 > r_lab
