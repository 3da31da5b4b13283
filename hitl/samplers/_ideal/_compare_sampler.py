"""ComparisonSampler: the ideal-point sampler for comparison studies (``mode=preferential``)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial
from optuna_dashboard.preferential._system_attrs import _SYSTEM_ATTR_PREFIX_PREFERENCE

from hitl.queue._feed import TrialFeed
from hitl.samplers._history import History
from hitl.samplers._history import SpaceScan
from hitl.samplers._ideal._comparisons import ComparisonModel
from hitl.samplers._ideal._proposal import propose_params
from hitl.samplers._outputs import locate
from hitl.samplers._space import Geometry
from hitl.samplers._space import recorded_space


__all__ = ["ComparisonSampler"]


class ComparisonSampler(BaseSampler):
    """Finds what a person wants from their choices between outputs, with numpy only.

    For comparison studies (``mode=preferential``, optuna-dashboard's preferential study): each
    choice of the worst of the candidates shown says the others were preferred to it. The model
    (:class:`~hitl.samplers._ideal._comparisons.ComparisonModel`) is the ideal-point sampler's
    person (an ideal output, a weight per parameter, a curve and noise), learnt from those pairs;
    each ask proposes as :class:`~hitl.samplers.IdealPointSampler` does, with the candidates
    still shown spread apart, and never an output already shown (by the generator's
    ``output_keys`` when it has them, else by the parameters as stored).

    Args:
        output: The generator (optional): the search space before the first trial, what is
            really shown and when two outputs are the same.
        n_particles: Size of the posterior cloud.
        n_draws: Posterior draws each ask scores candidates under.
        n_candidates: Candidates scored per ask.
        information: Weight of the expected information (bits) against the expected goodness.
        scale_spread: How much more one parameter may matter than another.
        lapse: Share of choices taken to be made at random.
        seed: Seed of the model and the proposals.
    """

    def __init__(self, *, output: Any = None, n_particles: int = 2048, n_draws: int = 384, n_candidates: int = 384,
                 information: float = 0.25, scale_spread: float = 0.4, lapse: float = 0.05,
                 seed: int | None = None) -> None:
        for name, value, least in (("n_particles", n_particles, 64), ("n_draws", n_draws, 8),
                                   ("n_candidates", n_candidates, 3)):
            if value < least:
                raise ValueError(f"{name}={value}: use at least {least}")
        if information < 0 or scale_spread <= 0 or not 0 <= lapse < 1:
            raise ValueError("information must be 0 or more, scale_spread positive, lapse in [0, 1)")
        self.output = output
        self.n_particles, self.n_draws, self.n_candidates = int(n_particles), int(n_draws), int(n_candidates)
        self.information, self.scale_spread, self.lapse = float(information), float(scale_spread), float(lapse)
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._state: _State | None = None
        self._scan = SpaceScan()
        self._feed: tuple[Any, TrialFeed] | None = None

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if len(study.directions) != 1:
            return {}
        space = dict(self._scan.update(self._trials(study))) or recorded_space(self.output)
        return dict(sorted(space.items()))

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        geometry = Geometry(search_space, isotropic=False)
        attrs = study._storage.get_study_system_attrs(study._study_id)  # before the trials: no choice unseen
        state = self._state_for(geometry, study)
        state.history.update(self._trials(study), trial.number)
        self._take_choices(state, attrs)
        taken = state.history.taken
        shown_now = _candidates(state.history, attrs, trial.number)
        pending = np.array([state.history.points[n][0] for n in shown_now]).reshape(-1, len(geometry.names))
        return propose_params(state.model, geometry=geometry, output=self.output, rng=self._rng, taken=taken,
                              pending=pending, n_draws=self.n_draws, n_candidates=self.n_candidates,
                              information=self.information)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # -- internals ----------------------------------------------------------------------------

    def _state_for(self, geometry: Geometry, study: optuna.Study) -> _State:
        signature = (study.study_name, study._study_id, geometry.signature)
        if self._state is None or self._state.signature != signature:
            self._state = _State(signature=signature, model=self._model(len(geometry.names)),
                                 history=History(names=geometry.names,
                                                 locate=lambda raw: locate(self.output, geometry, raw)))
        return self._state

    def _model(self, dims: int) -> ComparisonModel:
        return ComparisonModel(dims=dims, rng=self._rng, n_particles=self.n_particles,
                               scale_spread=self.scale_spread, lapse=self.lapse)

    def _take_choices(self, state: _State, attrs: dict[str, Any]) -> None:
        """Give the model the choices it lacks; start over if one it took was taken back (undone)."""
        choices = {k: [tuple(p) for p in v] for k, v in attrs.items() if k.startswith(_SYSTEM_ATTR_PREFIX_PREFERENCE)}
        if any(not choices.get(k) for k in state.taken):
            state.model, state.taken = self._model(state.model.dims), set()
        points = state.history.points
        better, worse = [], []
        for key, pairs in choices.items():
            if key in state.taken or not pairs or not all(b in points and w in points for b, w in pairs):
                continue
            state.taken.add(key)
            better += [points[b][0] for b, _ in pairs]
            worse += [points[w][0] for _, w in pairs]
        for first in range(0, len(better), 64):  # a resumed study: the cloud follows step by step
            state.model.add_pairs(np.array(better[first:first + 64]), np.array(worse[first:first + 64]))

    def _trials(self, study: optuna.Study) -> list[FrozenTrial]:
        key = (study.study_name, study._study_id)
        if self._feed is None or self._feed[0] != key:
            self._feed = (key, TrialFeed(study._storage, study._study_id, params=True))
        return self._feed[1].update()


def _candidates(history: History, attrs: dict[str, Any], current: int) -> list[int]:
    """The trials shown now (not chosen as the worst), whose points the proposal keeps away from."""
    worse = {w for k, v in attrs.items() if k.startswith(_SYSTEM_ATTR_PREFIX_PREFERENCE) for _, w in v}
    return [n for n in sorted(history.points) if n != current and n not in worse][-64:]


@dataclass
class _State:
    signature: tuple[Any, ...]
    model: ComparisonModel
    history: History
    taken: set[str] = field(default_factory=set)  # the choices (attribute keys) the model holds
