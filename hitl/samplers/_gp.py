"""Optuna's GPSampler, checked for its extras when built, and kept from proposing an output already shown."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from hitl._errors import HitlError
from hitl.samplers._outputs import keys_of
from hitl.samplers._outputs import shown_of
from hitl.samplers._space import Geometry


__all__ = ["UnrepeatingGPSampler", "gp"]

_SHOWN = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)  # jitter scales, as shares of each range, tried in turn


def gp(*, output: Any = None, **kwargs: Any) -> UnrepeatingGPSampler:
    """Optuna's GPSampler, failing at start (not at the first ask) when its extras are missing.

    Args:
        output: The generator, to tell when two outputs are the same (see
            :class:`hitl.samplers.OutputModel`); without it, equal parameters are.
        **kwargs: :class:`optuna.samplers.GPSampler`'s own.
    """
    missing = [m for m in ("torch", "scipy") if importlib.util.find_spec(m) is None]
    if missing:
        raise HitlError(
            f"sampler=gp needs {' and '.join(missing)}, not installed here: "
            "pip install -e '.[gp]' in the hitl folder, or pip install torch scipy (or pick sampler=auto)"
        )
    return UnrepeatingGPSampler(output=output, **kwargs)


class UnrepeatingGPSampler(optuna.samplers.GPSampler):
    """GPSampler that moves a proposal whose output was already shown to the nearest unseen one.

    A GP's acquisition maximum often stays where it was (a colour already shown, an integer
    already tried); hitl never shows an output twice, and a repeat it has to refuse costs a
    random draw. This looks around the proposal instead, at growing distances, and takes the
    nearest point whose output is new.

    Args:
        output: The generator (``output_keys`` / ``shown_points``, optional).
        **kwargs: :class:`optuna.samplers.GPSampler`'s own.
    """

    def __init__(self, *, output: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output = output
        self._jitter = np.random.default_rng(kwargs.get("seed"))

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        params = super().sample_relative(study, trial, search_space)
        numeric = {n: d for n, d in search_space.items()
                   if n in params and isinstance(d, (FloatDistribution, IntDistribution)) and not d.single()}
        if not numeric:
            return params
        geometry = Geometry(dict(sorted(numeric.items())), isotropic=False)
        shown = [t for t in study._storage.get_all_trials(study._study_id, deepcopy=False, states=_SHOWN)
                 if t.number != trial.number and set(geometry.names) <= set(t.params)]
        if not shown:
            return params
        taken = set(keys_of(self.output, geometry, geometry.from_values(
            np.array([[float(t.params[n]) for n in geometry.names] for t in shown]))))
        x = geometry.from_values(np.array([[float(params[n]) for n in geometry.names]]))
        if keys_of(self.output, geometry, x)[0] not in taken:
            return params
        span = geometry.high - geometry.low
        for step in _STEPS:
            around = np.clip(x + self._jitter.normal(0.0, step, (64, len(span))) * span, geometry.low, geometry.high)
            around = shown_of(self.output, geometry, around)
            new = [i for i, key in enumerate(keys_of(self.output, geometry, around)) if key not in taken]
            if new:
                nearest = min(new, key=lambda i: float(np.sum(((around[i] - x[0]) / span) ** 2)))
                return {**params, **geometry.to_params(around[nearest])}
        return params  # nothing new nearby: hitl's loop refuses the repeat and draws at random
