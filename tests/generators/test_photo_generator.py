"""generator=photo: the shipped CC0 photograph, graded by six parameters, fast, as config."""

from __future__ import annotations

from pathlib import Path
import time

import numpy as np
from PIL import Image
import pytest

import hitl
from hitl.evaluators import PhotoDistance
from hitl.generators import PhotoGenerator
from hitl.generators.photo import NEUTRAL
from hitl.generators.photo import PHOTO


SPACE = {name: {"low": -0.5, "high": 0.5} for name in NEUTRAL if name != "gamma"} | {"gamma": {"low": 0.5, "high": 2.0}}


def test_the_photo_and_its_licence_ship_with_the_package() -> None:
    licence = PHOTO.with_suffix(".txt").read_text()
    assert "CC0" in licence and "scikit-image" in licence
    with Image.open(PHOTO) as image:
        assert 320 <= image.width <= 480 and 240 <= image.height <= 360
    assert PHOTO.stat().st_size < 100_000
    data = Path(__file__).resolve().parents[2] / "setup.py"  # packaging lives there (conf/ mapped as hitl.conf)
    assert '"hitl.generators": ["data/*"]' in data.read_text()  # packaged, not only in the checkout


def test_neutral_parameters_leave_the_photo_as_shot(tmp_path: Path) -> None:
    generator = PhotoGenerator(space=SPACE)
    path = generator.render(dict(NEUTRAL), tmp_path)
    with Image.open(path) as out, Image.open(PHOTO) as photo:
        assert out.size == photo.size == generator.size
        assert np.array_equal(np.asarray(out), np.asarray(photo.convert("RGB")))


@pytest.mark.parametrize(("name", "value", "check"), [
    ("exposure", 0.5, lambda a, b: a.mean() > b.mean() + 10),               # brighter
    ("exposure", -0.5, lambda a, b: a.mean() < b.mean() - 10),
    ("temperature", 0.8, lambda a, b: (a[..., 0] - a[..., 2]).mean() > (b[..., 0] - b[..., 2]).mean() + 10),  # warmer
    ("tint", 0.8, lambda a, b: a[..., 1].mean() < b[..., 1].mean() - 5),     # magenta: less green
    ("saturation", -0.8, lambda a, b: a.std(axis=-1).mean() < 0.5 * b.std(axis=-1).mean()),  # greyer
    ("contrast", 0.5, lambda a, b: a.std() > b.std() * 1.1),
    ("gamma", 1.8, lambda a, b: np.median(a) > np.median(b) + 15),          # lighter mid-tones
])
def test_each_parameter_moves_the_picture_its_own_way(name: str, value: float, check, tmp_path: Path) -> None:
    generator = PhotoGenerator(space=SPACE)
    before = generator.grade({}).astype(float)
    after = generator.grade({name: value}).astype(float)
    assert check(after, before)


def test_render_is_fast(tmp_path: Path) -> None:
    generator = PhotoGenerator(space=SPACE)
    generator.render({"exposure": 0.2}, tmp_path)  # warm-up
    start = time.perf_counter()
    for i in range(5):
        generator.render({"exposure": 0.1 * i, "gamma": 1.2, "saturation": 0.3}, tmp_path)
    assert (time.perf_counter() - start) / 5 < 0.1  # ~20 ms here


@pytest.mark.parametrize(("space", "words"), [
    ({"brightness": {"low": 0.0, "high": 1.0}}, "unknown photo parameters"),
    ({"gamma": {"low": 0.0, "high": 2.0}}, "gamma"),
    ({"contrast": {"low": -0.5, "high": 0.9}}, "contrast"),
    ({"exposure": {"choices": [0.0, 1.0]}}, "float"),
])
def test_bad_spaces_are_refused(space: dict, words: str) -> None:
    with pytest.raises(hitl.HitlError, match=words):
        PhotoGenerator(space=space)


def test_features_measure_gradings_as_the_photo_scorer_sees_them(tmp_path: Path) -> None:
    """Straight distance between two gradings' features ranks 30 pairs as mean per-pixel CIEDE2000
    of the full renderings does (rank correlation above 0.9), and its thumbnail is the photo's."""
    generator = PhotoGenerator(space=SPACE)
    names = list(SPACE)
    rng = np.random.default_rng(0)
    low, high = np.array([SPACE[n]["low"] for n in names]), np.array([SPACE[n]["high"] for n in names])
    target = dict(zip(names, low + 0.5 * (high - low)))
    scorer = PhotoDistance(target=target, generator=generator)
    points = low + rng.random((30, len(names))) * (high - low)
    seen = [scorer(generator.render(dict(zip(names, row)), tmp_path)) for row in points]
    features = generator.features(names, np.vstack([points, [list(target.values())]]))
    assert features.shape[2] == 3 and 24 <= features.shape[1] <= 64  # a thumbnail's pixels: lightness, two colour axes
    features = features.reshape(len(features), -1)
    measured = np.linalg.norm(features[:-1] - features[-1], axis=1)
    ranks = [np.argsort(np.argsort(v)) for v in (seen, measured)]
    assert np.corrcoef(*ranks)[0, 1] > 0.9
