"""generator=synth (numpy) and generator=speech (espeak-ng): WAV files a browser can play."""

from __future__ import annotations

from pathlib import Path
import time
import wave

import numpy as np
import pytest

import hitl
from hitl.evaluators._sound import read_wav
from hitl.generators import SpeechGenerator
from hitl.generators import SynthGenerator
from hitl.generators.speech import espeak_ng
from tests.conftest import need


SYNTH_SPACE = {"pitch": {"low": 48.0, "high": 72.0}, "attack": {"low": 0.005, "high": 0.3}}


def _dir(tmp_path: Path, name: str) -> Path:
    """A fresh folder per render: generators write a fixed file name."""
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _pitch(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def test_synth_writes_a_16_bit_mono_wav_of_its_pitch(tmp_path: Path) -> None:
    generator = SynthGenerator(space=SYNTH_SPACE)
    path = generator.render({"pitch": 69.0, "brightness": 0.0, "cutoff": 500.0}, tmp_path)  # A4, nearly a sine
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert 1.0 <= wav.getnframes() / 22050 <= 1.5
    samples, rate = read_wav(path)
    assert 0.7 < np.abs(samples).max() <= 0.81  # normalized peak, no clipping
    assert abs(_pitch(samples, rate) - 440.0) < 3.0


def test_synth_parameters_change_the_sound(tmp_path: Path) -> None:
    generator = SynthGenerator(space=SYNTH_SPACE)
    base = generator.samples({})
    slow = generator.samples({"attack": 0.3})
    assert np.abs(slow[:2000]).max() < 0.5 * np.abs(base[:2000]).max()  # a slower attack starts quieter
    assert abs(_pitch(generator.samples({"pitch": 72.0}), 22050) / _pitch(base, 22050) - 2 ** (12 / 12)) < 0.02
    buzzy = generator.samples({"brightness": 2.0, "cutoff": 8000.0})
    mellow = generator.samples({"brightness": 0.0, "cutoff": 300.0})
    high = lambda x: np.abs(np.fft.rfft(x))[len(x) // 8:].sum() / np.abs(np.fft.rfft(x)).sum()  # noqa: E731
    assert high(buzzy) > 5 * high(mellow)
    assert not np.array_equal(generator.samples({"vibrato": 1.0}), base)


def test_synth_is_fast_and_refuses_unknown_parameters(tmp_path: Path) -> None:
    generator = SynthGenerator(space=SYNTH_SPACE)
    start = time.perf_counter()
    for pitch in (50.0, 60.0, 70.0):
        generator.render({"pitch": pitch}, tmp_path)
    assert (time.perf_counter() - start) / 3 < 0.2
    with pytest.raises(hitl.HitlError, match="unknown synth parameters"):
        SynthGenerator(space={"volume": {"low": 0.0, "high": 1.0}})


def test_speech_speaks_with_its_parameters(tmp_path: Path) -> None:
    if espeak_ng() is None:
        need("espeak-ng is not installed: apt-get install espeak-ng")
    generator = SpeechGenerator(space={"speed": {"low": 80, "high": 300}, "variant": {"choices": ["m1", "f2"]}})
    slow = generator.render({"speed": 100, "variant": "m1"}, _dir(tmp_path, "a"))
    fast = generator.render({"speed": 300, "variant": "m1"}, _dir(tmp_path, "b"))
    a, rate = read_wav(slow)
    b, _ = read_wav(fast)
    assert rate >= 16000 and len(a) > 1.8 * len(b) > 0  # slower speech lasts longer
    assert generator.command({"pitch": 20}, tmp_path / "x.wav")[:3] == [generator.executable, "-v", "en+m1"]


def test_speech_without_espeak_ng_names_the_option_and_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hitl.generators.speech.shutil.which", lambda name: None)
    with pytest.raises(hitl.HitlError, match=r"generator=speech.*apt-get install espeak-ng"):
        SpeechGenerator(space={"speed": {"low": 80, "high": 300}})
