"""Simulated raters' scorers judge the output file: ~0 at the target, growing away from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

import hitl
from hitl.evaluators import ColorDistance
from hitl.evaluators import PhotoDistance
from hitl.evaluators import SoundDistance
from hitl.evaluators import SrgbDistance
from hitl.generators import PhotoGenerator
from hitl.generators import SpeechGenerator
from hitl.generators import SynthGenerator
from hitl.generators.photo import NEUTRAL as PHOTO_NEUTRAL
from hitl.generators.speech import espeak_ng
from tests.conftest import need


PHOTO_TARGET = {"exposure": 0.3, "contrast": 0.2, "saturation": 0.3, "temperature": 0.4, "tint": -0.1, "gamma": 1.1}
SYNTH_TARGET = {"pitch": 62.0, "attack": 0.05, "decay": 0.5, "brightness": 1.2, "cutoff": 2000.0, "vibrato": 0.2}


def _dir(tmp_path: Path, name: str) -> Path:
    """A fresh folder per render: generators write a fixed file name."""
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _solid(tmp_path: Path, rgb: tuple[int, int, int]) -> Path:
    path = tmp_path / f"{'-'.join(map(str, rgb))}.png"
    Image.new("RGB", (32, 24), rgb).save(path)
    return path


def _increasing(values: list[float]) -> bool:
    return all(b > a for a, b in zip(values, values[1:]))


@pytest.fixture(scope="module")
def photo() -> PhotoGenerator:
    return PhotoGenerator(space={name: {"low": -0.5, "high": 0.5} for name in PHOTO_NEUTRAL if name != "gamma"})


@pytest.mark.parametrize("name", list(PHOTO_TARGET))
def test_photo_distance_is_zero_at_the_target_and_grows_away_from_it(name: str, photo: PhotoGenerator,
                                                                        tmp_path: Path) -> None:
    scorer = PhotoDistance(target=PHOTO_TARGET, generator=photo)
    distances = []
    for step in (0.0, 0.1, 0.25, 0.5):
        (tmp_path / str(step)).mkdir()
        distances.append(scorer(photo.render({**PHOTO_TARGET, name: PHOTO_TARGET[name] - step}, tmp_path / str(step))))
    assert distances[0] == 0.0
    assert _increasing(distances), distances
    assert distances[-1] > 1.0


def test_photo_distance_takes_a_target_file_and_other_sizes(photo: PhotoGenerator, tmp_path: Path) -> None:
    target = photo.render(PHOTO_TARGET, tmp_path)
    scorer = PhotoDistance(target=str(target))
    small = tmp_path / "small.png"
    with Image.open(target) as image:
        image.resize((image.width // 2, image.height // 2)).save(small)
    assert scorer(target) == 0.0 and 0 < scorer(small) < 4.0  # upscaled: blurred edges only
    assert 0 < PhotoDistance(target=str(target), scale=0.5)(small) < 1.0  # compared at half size: nearly the same


def test_photo_distance_weights_hue_and_lightness(photo: PhotoGenerator, tmp_path: Path) -> None:
    target = photo.render({}, _dir(tmp_path, "t"))
    brighter = photo.render({"exposure": 0.3}, _dir(tmp_path, "b"))
    warmer = photo.render({"temperature": 0.5}, _dir(tmp_path, "w"))
    plain = PhotoDistance(target=str(target))
    hue_minded = PhotoDistance(target=str(target), k_l=1 / 0.3, k_h=1 / 3)
    assert hue_minded(brighter) < 0.7 * plain(brighter)  # lightness counts less (exposure moves chroma too)
    assert hue_minded(warmer) / hue_minded(brighter) > 2 * plain(warmer) / plain(brighter)  # hue counts more


def test_color_distance_nearest_of_several_targets_and_weights(tmp_path: Path) -> None:
    orange, blue = (250, 94, 35), (60, 120, 200)
    one = ColorDistance(target=list(orange))
    two = ColorDistance(target=[list(orange), list(blue)])
    assert one(_solid(tmp_path, orange)) < 0.01 and one(_solid(tmp_path, blue)) > 40
    assert two(_solid(tmp_path, orange)) < 0.01 and two(_solid(tmp_path, blue)) < 0.01
    purple = _solid(tmp_path, (155, 107, 118))  # between the two: far from both
    assert two(purple) == pytest.approx(min(ColorDistance(target=list(blue))(purple), one(purple)))
    darker, redder = _solid(tmp_path, (200, 70, 20)), _solid(tmp_path, (250, 60, 50))
    weighted = ColorDistance(target=list(orange), k_l=1 / 0.3, k_h=1 / 3)
    assert weighted(darker) < one(darker) and weighted(redder) > one(redder)
    with pytest.raises(hitl.HitlError, match="evaluator.scorer.target"):
        ColorDistance(target=[[250, 94], [1, 2, 3]])


def test_srgb_distance_is_straight_and_disagrees_with_the_eye(tmp_path: Path) -> None:
    scorer = SrgbDistance(target=[0, 0, 0])
    assert scorer(_solid(tmp_path, (255, 255, 255))) == pytest.approx(np.sqrt(3) * 255)
    assert scorer(_solid(tmp_path, (0, 0, 40))) == pytest.approx(40)
    eye = ColorDistance(target=[0, 0, 0])
    dark_blue, dark_green = _solid(tmp_path, (0, 0, 40)), _solid(tmp_path, (0, 40, 0))
    assert scorer(dark_blue) == scorer(dark_green) and eye(dark_blue) != pytest.approx(eye(dark_green), abs=1)


@pytest.mark.parametrize(("name", "steps"), [
    ("pitch", [0.0, 0.5, 2.0, 6.0]), ("attack", [0.0, 0.05, 0.15, 0.4]), ("decay", [0.0, 0.1, 0.3, 0.8]),
    ("brightness", [0.0, 0.2, 0.4, 0.8]), ("cutoff", [0.0, 500.0, 1500.0, 4000.0]), ("vibrato", [0.0, 0.1, 0.3, 0.8]),
])
def test_sound_distance_is_zero_at_the_target_and_grows_away_from_it(name: str, steps: list[float],
                                                                        tmp_path: Path) -> None:
    synth = SynthGenerator(space={"pitch": {"low": 48.0, "high": 72.0}})
    scorer = SoundDistance(target=SYNTH_TARGET, generator=synth)
    distances = []
    for step in steps:
        (tmp_path / str(step)).mkdir()
        distances.append(scorer(synth.render({**SYNTH_TARGET, name: SYNTH_TARGET[name] + step}, tmp_path / str(step))))
    assert distances[0] == 0.0
    assert _increasing(distances), distances


def test_sound_distance_of_speech(tmp_path: Path) -> None:
    if espeak_ng() is None:
        need("espeak-ng is not installed: apt-get install espeak-ng")
    speech = SpeechGenerator(space={"speed": {"low": 80, "high": 300}})
    target = {"speed": 160, "pitch": 40, "word_gap": 2, "variant": "f2"}
    scorer = SoundDistance(target=target, generator=speech)
    distances = []
    for i, speed in enumerate((160, 200, 300)):
        (tmp_path / str(i)).mkdir()
        distances.append(scorer(speech.render({**target, "speed": speed}, tmp_path / str(i))))
    assert distances[0] < 1.0 and _increasing(distances), distances
    (tmp_path / "m3").mkdir()
    assert scorer(speech.render({**target, "variant": "m3"}, tmp_path / "m3")) > 5  # another voice


def test_a_target_is_a_file_or_parameters(tmp_path: Path) -> None:
    with pytest.raises(hitl.HitlError, match="no such file"):
        SoundDistance(target=str(tmp_path / "nope.wav"))
    with pytest.raises(hitl.HitlError, match="generator"):
        PhotoDistance(target={"exposure": 0.3})
