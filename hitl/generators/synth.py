"""A small numpy synthesizer: one note with pitch, envelope, timbre, filter and vibrato, as WAV."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
import wave

import numpy as np
from numpy.typing import NDArray

from hitl._errors import HitlError
from hitl.generators._base import Generator


__all__ = ["SynthGenerator", "write_wav"]

NEUTRAL: dict[str, float] = {  # the value of each parameter the space leaves out
    "pitch": 60.0,  # MIDI note number: 60 is middle C (261.6 Hz), +1 a semitone
    "attack": 0.02,  # seconds from silence to full level
    "decay": 0.4,  # seconds for the level to fall to 1/e after the attack
    "brightness": 1.0,  # harmonic k has amplitude k**-(2 - brightness): 0 mellow .. 2 buzzy
    "cutoff": 3000.0,  # Hz: a 2nd-order low-pass filter's corner
    "vibrato": 0.0,  # semitones of pitch wobble (peak)
    "vibrato_rate": 5.5,  # wobbles per second
}
_MAX_HARMONICS = 60


class SynthGenerator(Generator):
    """One synthesized note, a 16-bit mono WAV: additive synthesis in numpy, a few ms per render.

    The note's harmonics (up to the Nyquist frequency) have amplitudes set by ``brightness``
    and shaped by a low-pass filter at ``cutoff``; the pitch wobbles by ``vibrato``
    semitones; the level rises over ``attack`` and dies away with time constant ``decay``.
    Parameters the space leaves out keep :data:`NEUTRAL` values. The peak is normalized, so
    loudness is not a parameter.

    Args:
        space: Ranges of any of ``pitch``, ``attack``, ``decay``, ``brightness``, ``cutoff``,
            ``vibrato``, ``vibrato_rate`` (floats).
        duration: Seconds of sound.
        sample_rate: Samples per second.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]], duration: float = 1.2, sample_rate: int = 22050) -> None:
        super().__init__(space=space)
        unknown = set(self.space) - set(NEUTRAL)
        if unknown:
            raise HitlError(f"generator.space: unknown synth parameters {sorted(unknown)}; use any of {list(NEUTRAL)}")
        for name, spec in self.space.items():
            if "choices" in spec:
                raise HitlError(f"generator.space.{name}: give a {{low, high}} range")
            if name != "pitch" and spec["low"] < 0:
                raise HitlError(f"generator.space.{name}: keep low at 0 or above")
        if not 0.1 <= duration <= 10:
            raise HitlError(f"generator.duration={duration}: give 0.1..10 seconds")
        if sample_rate < 8000:
            raise HitlError(f"generator.sample_rate={sample_rate}: give at least 8000")
        self.duration = duration
        self.sample_rate = sample_rate

    def samples(self, params: Mapping[str, Any]) -> NDArray[np.float32]:
        """The note as float samples in -1..1 (no file written)."""
        p = {**NEUTRAL, **{k: float(v) for k, v in params.items() if k in NEUTRAL}}
        rate = self.sample_rate
        t = np.arange(int(self.duration * rate), dtype=np.float64) / rate
        f0 = 440.0 * 2.0 ** ((p["pitch"] - 69.0) / 12.0)
        wobble = 2.0 ** (p["vibrato"] * np.sin(2 * np.pi * p["vibrato_rate"] * t) / 12.0)
        phase = 2 * np.pi * np.cumsum(f0 * wobble) / rate  # the fundamental's phase
        k = np.arange(1, min(_MAX_HARMONICS, int(rate / 2 / (f0 * 2 ** (p["vibrato"] / 12)))) + 1)
        gains = k ** -(2.0 - p["brightness"]) / np.sqrt(1.0 + (k * f0 / max(p["cutoff"], 1.0)) ** 4)
        tone = np.sin(np.outer(phase, k).astype(np.float32)) @ gains.astype(np.float32)
        envelope = np.minimum(1.0, t / max(p["attack"], 1e-3)) * np.exp(-np.maximum(0.0, t - p["attack"]) / max(p["decay"], 1e-3))
        fade = np.minimum(1.0, (t[-1] - t) / 0.01)  # 10 ms fade-out: no click at the end
        sound = tone * (envelope * fade).astype(np.float32)
        peak = float(np.abs(sound).max())
        return (sound * (0.8 / peak) if peak > 0 else sound).astype(np.float32)

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "note.wav"
        write_wav(path, self.samples(params), self.sample_rate)
        return path


def write_wav(path: Path, samples: NDArray[np.floating], sample_rate: int) -> None:
    """Write float samples in -1..1 as a 16-bit mono WAV file."""
    pcm = np.clip(np.rint(np.asarray(samples) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
