"""sampler=gp: optuna's GPSampler, kept from proposing an output already shown."""

from __future__ import annotations

import importlib.util

import optuna
import pytest

from hitl.samplers import gp
from tests.conftest import need


optuna.logging.set_verbosity(optuna.logging.WARNING)


def _distinct(sampler: optuna.samplers.BaseSampler, n: int) -> int:
    """Outputs of ``n`` asks on 2 integer parameters of 10 values, each rated by its closeness to (3, 6)."""
    study = optuna.create_study(direction="maximize", sampler=sampler)
    shown = set()
    for _ in range(n):
        trial = study.ask()
        x, y = trial.suggest_int("x", 0, 9), trial.suggest_int("y", 0, 9)
        shown.add((x, y))
        study.tell(trial, 20.0 - abs(x - 3) - abs(y - 6))
    return len(shown)


def test_gp_never_repeats_an_output_where_plain_gp_does() -> None:
    if importlib.util.find_spec("torch") is None:
        need("sampler=gp needs torch (pip install -e '.[gp]')")
    assert _distinct(gp(n_startup_trials=5, seed=0), 25) == 25
    assert _distinct(optuna.samplers.GPSampler(n_startup_trials=5, seed=0), 25) < 25  # what it fixes
