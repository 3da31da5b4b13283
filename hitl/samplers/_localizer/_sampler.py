"""The sampler: optuna's sampler interface over the rating model, the candidates and the proposal."""

from __future__ import annotations

from collections.abc import Sequence
import logging
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial

from hitl.samplers._history import History
from hitl.samplers._localizer._measure import Measure
from hitl.samplers._localizer._model import RatingModel
from hitl.samplers._outputs import candidates
from hitl.samplers._outputs import locate
from hitl.samplers._outputs import unseen_params
from hitl.samplers._localizer._proposal import Proposer
from hitl.samplers._reader import study_key
from hitl.samplers._reader import StudyReader
from hitl.samplers._space import Geometry
from hitl.samplers._space import Levels
from hitl.samplers._localizer._state import index_by_key
from hitl.samplers._localizer._state import Neighbours
from hitl.samplers._localizer._state import State


__all__ = ["LocalizationSampler"]

_log = logging.getLogger("hitl")
_MANY_RATINGS = 1000  # taking in this many at once is worth a log line
_NEGLIGIBLE = 30.0  # log posterior below the best at which a grid point is dropped (its mass is under 1e-13)


class LocalizationSampler(BaseSampler):
    """Finds the region a person rates best from ordinal ratings, in few ratings; no torch.

    Numeric parameters are modelled jointly (log ones on a log scale); categorical ones are
    sampled at random. Distances are measured on the parameters' own scale divided by the
    widest range (``isotropic=True``), so a generator with commensurate parameters (a
    perceptual colour space) keeps its geometry; ``isotropic=False`` scales each axis to 0..1.
    Single-objective studies only (others get random samples).

    Args:
        output: The generator (or any object) with ``output_keys`` / ``shown_points`` (see
            :class:`OutputModel`) and ``suggest`` (gives the search space before the first
            trial). Without those methods, outputs count as identical when their parameters
            are (integers after rounding), and every point of the box as shown as itself.
        n_candidates: Candidate ideals spread over the space; more is finer and slower.
        radius: How near the ideal counts as a hit, in normalized units (0.1: a tenth of
            the widest parameter range).
        span: Range of the grid over the distance from which every rating is the worst.
        best_share: Range of the grid over the best level's width, in steps of the others.
        noise: The grid's rating noise (logistic scale), normalized units.
        relative_noise: Noise growing with distance: perceptual scales are less exact far away.
        lapse: Probability that a rating ignores the output (a slip of the hand).
        information: Weight of the expected information (bits) against the hit probability.
        n_proposals: Candidates scored per ask: the likeliest, plus half as many at random.
        n_draws: Posterior draws for the information estimate.
        isotropic: Measure distance on the parameters' shared scale, not per-axis 0..1.
        emphasis: When the output model splits its distance into parts (``distance_parts``,
            e.g. a colour's lightness, chroma and hue), the weights a person may give each
            part: every combination is a hypothesis weighed by the ratings, so a person who
            barely sees lightness is measured as they see. ``[1.0]``: the output model's
            measure alone.
        seed: Seed of the posterior draws and the proposals (the candidate set is fixed).
    """

    def __init__(
        self,
        *,
        output: Any = None,
        n_candidates: int = 3000,
        radius: float = 0.1,
        span: Sequence[float] = (0.2, 0.8),
        best_share: Sequence[float] = (0.35, 1.0),
        noise: Sequence[float] = (0.01, 0.03),
        relative_noise: float = 0.08,
        lapse: float = 0.01,
        information: float = 2.0,
        n_proposals: int = 192,
        n_draws: int = 384,
        isotropic: bool = True,
        emphasis: Sequence[float] = (1 / 3, 1.0, 3.0),
        seed: int | None = None,
    ) -> None:
        if n_candidates < 16:
            raise ValueError(f"n_candidates={n_candidates}: use at least 16")
        if radius <= 0:
            raise ValueError(f"radius={radius}: must be positive")
        if not 0 <= lapse < 1:
            raise ValueError(f"lapse={lapse}: must be in [0, 1)")
        if information < 0 or relative_noise < 0:
            raise ValueError("information and relative_noise must be 0 or more")
        if not noise or min(noise) <= 0:
            raise ValueError(f"noise={list(noise)}: give positive values")
        if not emphasis or min(emphasis) <= 0:
            raise ValueError(f"emphasis={list(emphasis)}: give positive weights ([1.0]: the output model's measure alone)")
        if n_proposals < 1 or n_draws < 1:
            raise ValueError("n_proposals and n_draws must be at least 1")
        self.output = output
        self.n_candidates = int(n_candidates)
        self.radius = float(radius)
        self.relative_noise = float(relative_noise)
        self.lapse = float(lapse)
        self.information = float(information)
        self.n_proposals = int(n_proposals)
        self.n_draws = int(n_draws)
        self.isotropic = bool(isotropic)
        self.emphasis = tuple(float(e) for e in emphasis)
        self._grid = {"span": tuple(span), "best_share": tuple(best_share), "noise": tuple(noise)}
        RatingModel(**self._grid, relative_noise=self.relative_noise, lapse=self.lapse)  # checks the grid now
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._state: State | None = None
        self._reader = StudyReader(output=output)
        self.last_proposal: dict[str, Any] = {}
        """What the last relative sample was based on (for logs and tests)."""

    # -- optuna's sampler interface ---------------------------------------------------------

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
        geometry = Geometry(search_space, self.isotropic)
        state = self._state_for(geometry, study_key(study))
        history = state.history
        history.update(self._reader.trials(study, trial), trial.number)
        levels = Levels.of(study, self._reader.widget(study), history.values)
        self._update_likelihood(state, levels)
        log_lik = state.log_lik[state.alive]
        joint = np.exp(log_lik - log_lik.max())  # (grid points alive, candidates), float32
        joint /= joint.sum()

        state.mark_shown(history.take_changed_keys(), history.taken)
        pending = history.pending
        to_pending = state.measure.to_candidates(np.array(pending)) if pending else np.zeros((state.measure.count, 0, len(state.z)))
        chosen, score = state.proposer.choose(state, joint, to_pending, levels.count, self._rng)
        if chosen is None:  # every candidate was shown already
            return unseen_params(self.output, geometry, self._rng, history.taken)
        marginal = joint.sum(axis=1)
        cutoffs = state.model.cutoffs(levels.count)[state.alive]
        self.last_proposal = {
            "rated": len(history.rated),
            "waiting": len(pending),
            "score": float(score),
            "best_radius": float(marginal @ cutoffs[:, 0]),
            "span": float(marginal @ cutoffs[:, -1]),
        }
        return geometry.to_params(state.x[chosen])

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # -- candidates and trials --------------------------------------------------------------

    def _state_for(self, geometry: Geometry, key: tuple[Any, ...]) -> State:
        signature = (key, geometry.signature)
        if self._state is not None and self._state.signature == signature:
            return self._state
        x, keys = candidates(self.output, geometry, self.n_candidates)
        z = geometry.normalize(x)
        measure = Measure(geometry, self.output, z, self.emphasis)
        model = RatingModel(**self._grid, relative_noise=self.relative_noise, lapse=self.lapse, metrics=measure.count)
        self._state = State(
            signature=signature,
            x=x,
            z=z,
            measure=measure,
            near=Neighbours.within(lambda rows, columns: measure.between(rows, columns, metric=0), len(z), self.radius),
            keys=keys,
            by_key=index_by_key(keys),
            free=np.ones(len(x), dtype=bool),
            log_lik=np.repeat(model.log_prior[:, None], len(x), axis=1),
            model=model,
            alive=np.arange(model.size),
            proposer=Proposer(model=model, radius=self.radius, information=self.information,
                              n_proposals=self.n_proposals, n_draws=self.n_draws),
            history=History(names=geometry.names, locate=lambda raw: locate(self.output, geometry, raw)),
        )
        return self._state


    def _update_likelihood(self, state: State, levels: Levels) -> None:
        """Add the log-likelihood of ratings not yet counted; start over if the scale changed."""
        history = state.history
        numbers = history.take_new_ratings()
        if levels.signature != state.levels:
            state.log_lik[:] = state.model.log_prior[:, None]
            state.alive = np.arange(state.model.size)
            state.levels = levels.signature
            numbers = list(history.rated)
        if len(numbers) >= _MANY_RATINGS:  # a resumed study: a few ms per rating, once
            _log.info("LocalizationSampler: taking in %d earlier ratings (once per run)", len(numbers))
        for number in numbers:
            d = state.measure.to_candidates(history.points[number][0][None, :])[:, 0]
            state.log_lik[state.alive] += state.model.log_likelihood(d, levels.level(history.rated[number]), levels.count,
                                                                     rows=state.alive)
        if numbers:  # a grid point e^-30 behind the best holds no mass worth its time: it stops being updated
            best = state.log_lik[state.alive].max(axis=1)
            keep = best > best.max() - _NEGLIGIBLE
            state.log_lik[state.alive[~keep]] = -np.inf  # no mass, rather than a stale figure
            state.alive = state.alive[keep]
