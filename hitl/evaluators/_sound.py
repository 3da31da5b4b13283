"""Scoring a sound: the distance of its log-mel spectrogram to a hidden target sound's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
import wave

import numpy as np
from numpy.typing import NDArray

from hitl._errors import HitlError
from hitl.evaluators._target import target_file


__all__ = ["SoundDistance", "log_mel", "read_wav"]

_FLOOR_DB = -80.0  # dB below a full-scale sine: quieter counts as silence


class SoundDistance:
    """How different a sound is from a hidden target sound: mean |dB| between log-mel spectrograms.

    Both sounds are resampled to ``sample_rate``, cut into frames of ``frame`` samples every
    ``hop``, and each frame's power summed into ``bands`` mel bands (spaced as pitch is
    heard) in dB of full scale, floored at -80 dB, so loudness counts too. The distance is the mean absolute
    difference in dB over bands and frames; the shorter sound is padded with silence, so a
    sound of another length is further away. It looks at the file only, never the parameters.

    Args:
        target: The target sound's WAV file, or parameter values that ``generator`` renders once.
        generator: The generator of the outputs (``${generator}`` in the config); needed when
            ``target`` is parameters.
        bands: Mel bands.
        sample_rate: Rate both sounds are compared at.
        frame: Samples per analysis frame.
        hop: Samples between frames.
    """

    def __init__(self, *, target: str | Mapping[str, Any], generator: Any = None, bands: int = 40,
                 sample_rate: int = 22050, frame: int = 1024, hop: int = 256) -> None:
        if bands < 1 or frame < 16 or hop < 1:
            raise HitlError(f"evaluator.rater.scorer: bands={bands}, frame={frame}, hop={hop}: give positive sizes")
        self.bands, self.sample_rate, self.frame, self.hop = bands, sample_rate, frame, hop
        self.target_path = target_file(target, generator, key="evaluator.rater.scorer")
        self._target = self.spectrogram(self.target_path)

    def spectrogram(self, path: Path) -> NDArray[np.float32]:
        """The file's log-mel spectrogram in dB, shape ``(frames, bands)``."""
        samples, rate = read_wav(path)
        return log_mel(_resample(samples, rate, self.sample_rate), self.sample_rate,
                       bands=self.bands, frame=self.frame, hop=self.hop)

    def __call__(self, output: Path) -> float:
        got, want = self.spectrogram(output), self._target
        frames = max(len(got), len(want))
        got, want = _pad(got, frames), _pad(want, frames)
        return float(np.abs(got - want).mean())


def read_wav(path: Path) -> tuple[NDArray[np.float32], int]:
    """A PCM WAV file's samples (mono mix, -1..1) and its sample rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise HitlError(f"{Path(path).name}: not a PCM WAV file ({exc})") from exc
    if width == 1:
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        kind = "<i2" if width == 2 else "<i4"
        samples = np.frombuffer(data, dtype=kind).astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise HitlError(f"{Path(path).name}: {8 * width}-bit WAV; give 8, 16 or 32-bit PCM")
    return samples.reshape(-1, channels).mean(axis=1), rate


def log_mel(samples: NDArray[np.float32], rate: int, *, bands: int, frame: int, hop: int) -> NDArray[np.float32]:
    """Log-mel spectrogram in dB of full scale, ``(frames, bands)``; a sound shorter than a frame is one frame."""
    if len(samples) < frame:
        samples = np.pad(samples, (0, frame - len(samples)))
    count = 1 + (len(samples) - frame) // hop
    index = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    power = np.abs(np.fft.rfft(samples[index] * np.hanning(frame).astype(np.float32), axis=1)) ** 2
    mel = power @ _mel_bank(rate, frame, bands).T
    full_scale = (np.hanning(frame).sum() / 2) ** 2  # a full-scale sine's power in its frequency bin
    return (10.0 * np.log10(np.maximum(mel, 1e-12) / full_scale)).clip(_FLOOR_DB).astype(np.float32)


def _mel_bank(rate: int, frame: int, bands: int) -> NDArray[np.float32]:
    """Triangular filters, equally spaced in mel from 30 Hz to the Nyquist frequency."""
    def mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    edges_mel = np.linspace(mel(np.array(30.0)), mel(np.array(rate / 2)), bands + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(frame, 1.0 / rate)
    low, mid, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising, falling = (freqs - low) / (mid - low), (high - freqs) / (high - mid)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def _resample(samples: NDArray[np.float32], rate: int, wanted: int) -> NDArray[np.float32]:
    if rate == wanted:
        return samples
    times = np.arange(int(len(samples) * wanted / rate)) * (rate / wanted)
    return np.interp(times, np.arange(len(samples)), samples).astype(np.float32)


def _pad(spectrogram: NDArray[np.float32], frames: int) -> NDArray[np.float32]:
    return np.pad(spectrogram, ((0, frames - len(spectrogram)), (0, 0)), constant_values=_FLOOR_DB)
