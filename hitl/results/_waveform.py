"""A sound output's cell on the contact sheet: its waveform, labelled with the file's name."""

from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from hitl.results._text import fit
from hitl.results._text import TEXT_COLOUR


__all__ = ["WAVE_SUFFIXES", "waveform_cell"]

WAVE_SUFFIXES = (".wav", ".wave")
_BACKGROUND = (238, 238, 238)
_WAVE = (40, 90, 160)


def waveform_cell(data: bytes, side: int, font: ImageFont.ImageFont, label: str) -> Image.Image:
    """A ``side`` square: the PCM WAV in ``data`` drawn as its envelope, ``label`` below it.

    Raises:
        wave.Error: ``data`` is not a PCM WAV file (8, 16 or 32-bit).
    """
    with wave.open(io.BytesIO(data), "rb") as wav:
        width, channels = wav.getsampwidth(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    kinds = {1: np.uint8, 2: "<i2", 4: "<i4"}
    if width not in kinds:
        raise wave.Error(f"{8 * width}-bit samples")
    samples = np.frombuffer(frames, dtype=kinds[width]).astype(np.float32)
    if width == 1:
        samples -= 128.0
    samples = samples.reshape(-1, channels).mean(axis=1) / float(2 ** (8 * width - 1))
    cell = Image.new("RGB", (side, side), _BACKGROUND)
    draw = ImageDraw.Draw(cell)
    label_height = font.getbbox("Ag")[3] + 6
    middle, half = (side - label_height) // 2, (side - label_height) // 2 - 4
    if len(samples):
        columns = np.array_split(samples, side) if len(samples) >= side else [samples]
        for x, column in enumerate(columns):
            if len(column):
                top, bottom = float(column.max()), float(column.min())
                draw.line([(x, middle - round(top * half)), (x, middle - round(bottom * half))], fill=_WAVE)
    draw.line([(0, middle), (side - 1, middle)], fill=_WAVE)
    draw.text((4, side - label_height), fit(label, font, side - 8), font=font, fill=TEXT_COLOUR)
    return cell
