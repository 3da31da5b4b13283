"""IdealPointSampler: optuna's sampler interface around the ideal-point model."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial

from hitl.samplers._history import History
from hitl.samplers._ideal._model import IdealPointModel
from hitl.samplers._ideal._proposal import propose_params
from hitl.samplers._outputs import features_of
from hitl.samplers._outputs import locate
from hitl.samplers._reader import study_key
from hitl.samplers._reader import StudyReader
from hitl.samplers._space import Geometry
from hitl.samplers._space import Levels


__all__ = ["IdealPointSampler"]

_log = logging.getLogger("hitl")
_CHUNK = 16  # ratings taken in at once when the model starts over: the cloud follows step by step
_COUPLING = 0.8  # coupling's prior for up to _COUPLED_DIMS parameters: photo 13.5 ratings against 16 at 0.5 (80 runs)
_COARSE = 0.1  # coarse reading's prior: photo, coarse rater 92 % success against 78 % without, steady 15 against 15.5 (40 runs)
_COUPLED_DIMS = 8  # beyond: learning the coupled direction's d components costs more ratings than it saves


class IdealPointSampler(BaseSampler):
    """Finds what a person wants from ordinal ratings, in few ratings and in many dimensions.

    The model (:class:`~hitl.samplers._ideal._model.IdealPointModel`): the person has an ideal
    output; a rating falls with the distance from it, each parameter weighted by how much it
    matters to them. The ideal, the weights, the rating curve and the noise are learned from
    the ratings, as a cloud of particles that moves where the ratings point, so it keeps its
    resolution in 6 or 12 dimensions. Each ask shows the candidate with the best expected rating
    plus ``information`` times the bits a rating of it would tell, with the trials awaiting a
    rating spread apart. It never proposes an output already shown or waiting (by the
    generator's ``output_keys`` when it has them, else by the parameters as stored).

    Numeric parameters are modelled on a 0..1 scale each (log ones on a log scale); categorical
    ones are sampled at random. Single-objective studies only (others get random samples). It
    reads the widget the study registered to know how many levels a rating has and which end is
    best; numpy only, no torch.

    Args:
        output: The generator (optional): its ``suggest`` gives the search space before the
            first trial; ``shown_points`` / ``output_keys`` (see
            :class:`hitl.samplers.OutputModel`) say what is really shown and when two outputs
            are the same; ``features``, where a person's distance to their ideal is measured
            (else in the parameters).
        n_particles: Size of the posterior cloud; more is finer and slower.
        n_draws: Posterior draws each ask scores candidates under.
        n_candidates: Candidates scored per ask.
        information: Weight of the expected information (bits) against the expected rating.
        scale_spread: How much more one parameter may matter than another (prior sd of the log
            weights).
        lapse: Share of ratings taken to ignore the output (a slip, a distraction).
        max_ratings: Ratings the model's moves weigh at most (the best half, the latest half).
        coupling: Prior probability that the parameters act together along one direction (see
            :class:`~hitl.samplers._ideal._model.IdealPointModel`). ``None``: 0.8 with up to 8
            parameters, 0 with more (in 12 dimensions the extra direction cost ratings).
        coarse: Prior probability that the person uses only some levels of the scale (see
            :class:`~hitl.samplers._ideal._model.IdealPointModel`).
        seed: Seed of the model and the proposals.
    """

    def __init__(
        self,
        *,
        output: Any = None,
        n_particles: int = 2048,
        n_draws: int = 384,
        n_candidates: int = 384,
        information: float = 0.25,
        scale_spread: float = 0.4,
        lapse: float = 0.03,
        max_ratings: int = 256,
        coupling: float | None = None,
        coarse: float = _COARSE,
        seed: int | None = None,
    ) -> None:
        for name, value, least in (("n_particles", n_particles, 64), ("n_draws", n_draws, 8),
                                   ("n_candidates", n_candidates, 3), ("max_ratings", max_ratings, 8)):
            if value < least:
                raise ValueError(f"{name}={value}: use at least {least}")
        if information < 0 or scale_spread <= 0 or not 0 <= lapse < 1:
            raise ValueError("information must be 0 or more, scale_spread positive, lapse in [0, 1)")
        if not 0 <= coarse <= 1:
            raise ValueError(f"coarse={coarse}: use a probability in [0, 1]")
        if coupling is not None and not 0 <= coupling <= 1:
            raise ValueError(f"coupling={coupling}: use a probability in [0, 1], or null to choose by the number of parameters")
        self.output = output
        self.n_particles = int(n_particles)
        self.n_draws = int(n_draws)
        self.n_candidates = int(n_candidates)
        self.information = float(information)
        self.scale_spread = float(scale_spread)
        self.lapse = float(lapse)
        self.max_ratings = int(max_ratings)
        self.coupling = None if coupling is None else float(coupling)
        self.coarse = float(coarse)
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._state: _State | None = None
        self._reader = StudyReader(output=output)

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._reader.space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        geometry = Geometry(search_space, isotropic=False)
        state = self._state_for(geometry, study_key(study))
        state.history.update(self._reader.trials(study, trial), trial.number)
        levels = Levels.of(study, self._reader.widget(study), state.history.values)
        self._take_ratings(state, levels)
        pending = np.array(state.history.pending).reshape(-1, len(geometry.names))
        taken = state.history.taken
        return propose_params(state.model, geometry=geometry, output=self.output, rng=self._rng, taken=taken,
                              pending=pending, n_draws=self.n_draws, n_candidates=self.n_candidates,
                              information=self.information)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # -- internals ----------------------------------------------------------------------------

    def _state_for(self, geometry: Geometry, key: tuple[Any, ...]) -> _State:
        signature = (key, geometry.signature)
        if self._state is None or self._state.signature != signature:
            self._state = _State(signature=signature, geometry=geometry, model=None,
                                 history=History(names=geometry.names,
                                                 locate=lambda raw: locate(self.output, geometry, raw)))
        return self._state

    def _coupling(self, dims: int) -> float:
        if self.coupling is not None:
            return self.coupling
        return _COUPLING if dims <= _COUPLED_DIMS else 0.0

    def _take_ratings(self, state: _State, levels: Levels) -> None:
        """Give the model the ratings it lacks; start it over when the rating scale changed."""
        history = state.history
        numbers = history.take_new_ratings()
        if state.model is None or state.levels != levels.signature:
            state.model = IdealPointModel(
                dims=len(state.geometry.names), count=levels.count, rng=self._rng,
                n_particles=self.n_particles, scale_spread=self.scale_spread, lapse=self.lapse,
                max_ratings=self.max_ratings, coupling=self._coupling(len(state.geometry.names)),
                coarse=self.coarse, features=features_of(self.output, state.geometry),
            )
            state.levels = levels.signature
            numbers = sorted(history.rated)
            if len(numbers) > 100:
                _log.info("IdealPointSampler: taking in %d earlier ratings (once per run)", len(numbers))
        size = max(_CHUNK, len(numbers) // _CHUNK)  # a resumed study: 16 steps or so, not one per 16 ratings
        for first in range(0, len(numbers), size):
            chunk = numbers[first:first + size]
            points = np.array([history.points[n][0] for n in chunk])
            state.model.add(points, np.array([levels.level(history.rated[n]) for n in chunk]))



@dataclass
class _State:
    signature: tuple[Any, ...]
    geometry: Geometry
    model: IdealPointModel | None
    history: History
    levels: tuple[Any, ...] = ()
