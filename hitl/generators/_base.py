"""The generator plug-in point: a search space as data, and a render step."""

from __future__ import annotations

import abc
from collections.abc import Mapping
import hashlib
from pathlib import Path
from typing import Any

import optuna

from hitl._errors import HitlError


__all__ = ["Generator"]


class Generator(abc.ABC):
    """Turns suggested parameters into one output file a person can judge.

    Subclass it and implement :meth:`render`; the search space comes from the config
    (``generator.space``), so it changes by override, never by code edit. Each entry is a
    mapping: ``{low, high}`` (integers give an int parameter, ``type: float`` and ``log``
    / ``step`` as in Optuna) or ``{choices: [...]}`` for a categorical one.

    Args:
        space: Parameter name to its range.
    """

    def __init__(self, *, space: Mapping[str, Mapping[str, Any]]) -> None:
        if not space:
            raise HitlError("generator.space is empty: give at least one parameter")
        self.space = {str(k): dict(v) for k, v in space.items()}
        for name, spec in self.space.items():
            _check_spec(name, spec)

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Ask the trial for one value of every parameter in the space."""
        params: dict[str, Any] = {}
        for name, spec in self.space.items():
            if "choices" in spec:
                params[name] = trial.suggest_categorical(name, spec["choices"])
            elif _kind(spec) == "int":
                params[name] = trial.suggest_int(
                    name, spec["low"], spec["high"], step=spec.get("step", 1), log=spec.get("log", False)
                )
            else:
                params[name] = trial.suggest_float(
                    name, spec["low"], spec["high"], step=spec.get("step"), log=spec.get("log", False)
                )
        return params

    def space_kinds(self) -> dict[str, str]:
        """Each parameter's kind (``int``, ``float`` or ``categorical``), by name.

        A study remembers it: reopening the study with a generator of other parameters or
        kinds is refused, as optuna cannot mix them. Ranges may change.
        """
        return {name: "categorical" if "choices" in spec else _kind(spec) for name, spec in sorted(self.space.items())}

    @abc.abstractmethod
    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        """Write the output for ``params`` into ``directory`` and return its path.

        The file's suffix decides how the trial note shows it (images inline, others as a link).
        It is called in a thread of its own, which a run's ``timeout`` may abandon mid-render.
        """

    def fingerprint(self, path: Path) -> str:
        """A short text that two outputs share exactly when a person would see the same thing.

        hitl never shows an output whose fingerprint matches one waiting or rated. The default
        hashes the file's bytes; override it if your files differ where people see no
        difference (a timestamp in the metadata, say).
        """
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]


def _kind(spec: Mapping[str, Any]) -> str:
    if "type" in spec:
        return str(spec["type"])
    return "int" if isinstance(spec["low"], int) and isinstance(spec["high"], int) else "float"


def _check_spec(name: str, spec: Mapping[str, Any]) -> None:
    key = f"generator.space.{name}"
    allowed = {"low", "high", "step", "log", "type", "choices"}
    unknown = set(spec) - allowed
    if unknown:
        raise HitlError(f"{key}: unknown keys {sorted(unknown)}; use {sorted(allowed)}")
    if "choices" in spec:
        if not spec["choices"]:
            raise HitlError(f"{key}.choices is empty: list at least one choice")
        return
    if "low" not in spec or "high" not in spec:
        raise HitlError(f"{key}: give low and high (or choices)")
    if _kind(spec) not in ("int", "float"):
        raise HitlError(f"{key}.type={spec['type']!r}: use int or float")
    if not spec["low"] <= spec["high"]:
        raise HitlError(f"{key}: low={spec['low']} is above high={spec['high']}")
