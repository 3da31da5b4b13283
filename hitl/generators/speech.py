"""A spoken sentence by the espeak-ng voice: speed, pitch, amplitude, word gap and voice variant."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import shutil
import subprocess
from typing import Any

from hitl._errors import HitlError
from hitl.generators._base import Generator


__all__ = ["SpeechGenerator", "espeak_ng"]

NEUTRAL: dict[str, Any] = {  # espeak-ng's own defaults, for parameters the space leaves out
    "speed": 175,  # words per minute, 80..450
    "pitch": 50,  # 0..99
    "amplitude": 100,  # 0..200
    "word_gap": 0,  # extra pause between words, in 10 ms units
    "variant": "m1",  # a voice variant of espeak-ng (m1..m7, f1..f5, croak, klatt, whisper, ...)
}
_FLAGS = {"speed": "-s", "pitch": "-p", "amplitude": "-a", "word_gap": "-g"}


def espeak_ng() -> str | None:
    """The espeak-ng executable's path, or ``None`` where it is not installed."""
    return shutil.which("espeak-ng")


class SpeechGenerator(Generator):
    """A fixed sentence spoken by espeak-ng (Debian's ``espeak-ng`` package), a WAV file.

    Args:
        space: Ranges of any of ``speed``, ``pitch``, ``amplitude``, ``word_gap`` (ints) and
            ``variant`` (choices of espeak-ng voice variant names).
        text: What the voice says.
        language: espeak-ng's voice (language) name; the variant is appended as ``+variant``.

    Raises:
        HitlError: espeak-ng is not installed.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]],
                 text: str = "The quick brown fox jumps over the lazy dog.", language: str = "en") -> None:
        super().__init__(space=space)
        unknown = set(self.space) - set(NEUTRAL)
        if unknown:
            raise HitlError(f"generator.space: unknown speech parameters {sorted(unknown)}; use any of {list(NEUTRAL)}")
        if "variant" in self.space and "choices" not in self.space["variant"]:
            raise HitlError("generator.space.variant: give choices of voice variant names, e.g. [m1, f2, croak]")
        if not text.strip():
            raise HitlError("generator.text is empty: give the sentence to speak")
        executable = espeak_ng()
        if executable is None:
            raise HitlError("generator=speech needs the espeak-ng voice: apt-get install espeak-ng "
                            "(or pick another generator=)")
        self.executable = executable
        self.text = text
        self.language = language

    def command(self, params: Mapping[str, Any], path: Path) -> list[str]:
        """The espeak-ng command line that speaks ``params`` into ``path``."""
        p = {**NEUTRAL, **params}
        flags = [a for name, flag in _FLAGS.items() for a in (flag, str(int(round(float(p[name])))))]
        return [self.executable, "-v", f"{self.language}+{p['variant']}", *flags, "-w", str(path), "--", self.text]

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "speech.wav"
        done = subprocess.run(self.command(params, path), capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 or not path.is_file():
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise HitlError(f"espeak-ng failed (status {done.returncode}): {reason[0] if reason else 'no output'}")
        return path
