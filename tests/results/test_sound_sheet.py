"""The contact sheet draws a sound output as its waveform, and an unreadable one as its name."""

from __future__ import annotations

from pathlib import Path
import wave

import numpy as np
import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts import upload_artifact
from PIL import Image
import pytest

from hitl.generators import SynthGenerator
from hitl.results._sheet import contact_sheet
from hitl.results._text import load_font
from hitl.results._waveform import waveform_cell


WAVE = np.array((40, 90, 160))


def test_a_note_is_drawn_as_its_waveform(tmp_path: Path) -> None:
    note = SynthGenerator(space={"pitch": {"low": 48.0, "high": 72.0}}).render({"decay": 0.2}, tmp_path)
    cell = np.asarray(waveform_cell(note.read_bytes(), 160, load_font(12), "note.wav"))
    drawn = (np.abs(cell.astype(int) - WAVE).sum(axis=-1) == 0)
    columns = drawn.sum(axis=0)
    assert columns[:20].max() > 60 and columns[-20:].max() < 10  # loud attack, decayed at the end
    with pytest.raises(wave.Error):
        waveform_cell(b"not a wav file at all", 160, load_font(12), "x.wav")


def test_the_contact_sheet_of_a_sound_study(tmp_path: Path) -> None:
    store = FileSystemArtifactStore(str(tmp_path / "artifacts"))
    (tmp_path / "artifacts").mkdir()
    study = optuna.create_study(direction="maximize")
    synth = SynthGenerator(space={"pitch": {"low": 48.0, "high": 72.0}})
    for i, name in enumerate(["note.wav", "broken.wav"]):
        trial = study.ask()
        folder = tmp_path / str(i)
        folder.mkdir()
        path = synth.render({"pitch": 60.0}, folder)
        if name == "broken.wav":
            path = path.with_name(name)
            path.write_bytes(b"RIFF nonsense")
        upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)
        study.tell(trial, float(i))
    sheet = contact_sheet(study, store, tmp_path / "sheet.png")
    with Image.open(sheet) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert (np.abs(pixels.astype(int) - WAVE).sum(axis=-1) == 0).sum() > 500  # the good note's waveform
