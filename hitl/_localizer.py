"""A sampler for ordinal human ratings: find where a person's ideal output lies, in few ratings.

Model. A person has an ideal output in mind; a rating is a noisy, monotone function of how far
an output is from it, cut into the widget's levels (Good / So-so / Bad, or the steps of a
slider). The distance is the output model's own measure of how different two outputs look
when it has one (CIEDE2000 for :class:`hitl.generators.perceptual.PerceptualColorGenerator`);
otherwise the distance between the parameters, best on a perceptual scale (DIN99o there).

The sampler keeps a fixed set of candidate ideals spread uniformly over the space (over the
part an output model shows as itself, e.g. the displayable colours) and weighs each by the
likelihood of every rating so far under an ordered-logit model. The level cutoffs are not
given: the span (the distance from which every rating is the worst) and the width of the best
level are averaged over a grid together with the noise, so they are learned from the ratings.

Each proposal maximizes ``P(hit) + information * bits``: the posterior mass of the ideal
within ``radius`` of the point (the chance it is rated best), plus the expected information a
rating of it gives (Monte Carlo over posterior draws). Trials still awaiting a rating count as
misses for the first term and as their likeliest rating for the second, so a batch spreads out.
A point whose output equals one already rated or waiting is never proposed.

It reads only what the study stores: the trials' parameters and values, and the rating widget
registered with the study (which value is best, how many levels there are). Log-likelihoods
are cached per trial, so an ask costs about the same at 10 or 1000 trials.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import logging
from typing import Any
from typing import Protocol
from typing import runtime_checkable

import numpy as np
from numpy.typing import NDArray
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import FrozenTrial

from hitl._localizer_history import History
from hitl._localizer_history import Key
from hitl._localizer_history import SpaceScan
from hitl._localizer_measure import Measure
from hitl._localizer_space import Geometry
from hitl._localizer_space import Levels
from hitl._localizer_space import recorded_space
from hitl._localizer_space import registered_widget
from hitl.queue._feed import TrialFeed


__all__ = ["LocalizationSampler", "OutputModel"]

_log = logging.getLogger("hitl")
_MANY_RATINGS = 1000  # taking in this many at once is worth a log line
_SELF_TOLERANCE = 0.01  # a candidate the output model moves further (normalized) is not shown as itself
_SPAN_STEPS = 6  # grid points over the span
_SHARE_STEPS = 3  # grid points over the best level's share of a step
_TABLE_RANGE = 2.0  # normalized distances tabulated for the information estimate (beyond: the last bin)
_TABLE_BINS = 800
_CANDIDATE_SEED = 20050101  # candidates are a fixed set; seeds vary the draws and the proposals



@runtime_checkable
class OutputModel(Protocol):
    """What a generator can tell a sampler about the outputs it renders.

    ``output_keys``: one row per point; equal rows mean identical outputs (e.g. the integer
    colour shown). ``shown_points``: the parameters of the output actually shown (after gamut
    mapping or rounding), same shape as ``points``. Optionally also ``distances(names, a, b)``:
    how different the outputs of parameter rows ``a`` and ``b`` look, ``(len(a), len(b))``, on
    the parameters' scale (e.g. CIEDE2000 for colours); without it, the distance between the
    parameters stands in for it.
    """

    def output_keys(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.int64]: ...

    def shown_points(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float64]: ...


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
        grid_r, grid_b, grid_t = np.meshgrid(
            np.geomspace(*_pair(span, "span"), _SPAN_STEPS),
            np.geomspace(*_pair(best_share, "best_share"), _SHARE_STEPS),
            np.asarray(list(noise), dtype=float),
            indexing="ij",
        )
        self._grid_r = grid_r.ravel()
        self._grid_b = grid_b.ravel()
        self._grid_t = grid_t.ravel()
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._state: _State | None = None
        self._scans: dict[tuple[Any, ...], SpaceScan] = {}
        self._widgets: dict[tuple[Any, ...], Mapping[str, Any] | None] = {}
        self._trials_cache: tuple[tuple[Any, ...], list[FrozenTrial]] | None = None
        self._feeds: dict[tuple[Any, ...], TrialFeed] = {}
        self._tables: dict[int, tuple[NDArray[np.float64], NDArray[np.float64], float]] = {}
        self.last_proposal: dict[str, Any] = {}
        """What the last relative sample was based on (for logs and tests)."""

    # -- optuna's sampler interface ---------------------------------------------------------

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if len(study.directions) != 1:
            return {}
        scan = self._scans.setdefault(_study_key(study), SpaceScan())
        space = dict(scan.update(self._trials(study, trial)))
        if not space:
            space = recorded_space(self.output)
        return dict(sorted(space.items()))

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        geometry = Geometry(search_space, self.isotropic)
        state = self._state_for(geometry, _study_key(study))
        history = state.history
        history.update(self._trials(study, trial), trial.number)
        levels = Levels.of(study, self._widget(study), history.values)
        self._update_likelihood(state, levels)
        joint = np.exp((state.log_lik - state.log_lik.max()).astype(np.float32)).astype(np.float64)  # (grid, candidates)
        joint /= joint.sum()

        state.mark_shown(history.take_changed_keys(), history.taken)
        pending = history.pending
        to_pending = state.measure.to_candidates(np.array(pending)) if pending else np.zeros((0, len(state.z)))
        chosen, score = self._choose(state, joint, to_pending, levels.count)
        if chosen is None:  # every candidate was shown already
            return self._unshown(geometry, history.taken)
        marginal = joint.sum(axis=1)
        cutoffs = self._cutoffs(levels.count)
        self.last_proposal = {
            "rated": len(history.rated),
            "waiting": len(pending),
            "score": float(score),
            "best_radius": float(marginal @ cutoffs[:, 0]),
            "span": float(marginal @ cutoffs[:, -1]),
        }
        return geometry.to_params(state.x[chosen])

    def _unshown(self, geometry: Geometry, taken: Container[Key]) -> dict[str, Any]:
        """A random point whose output has not been shown; ``{}`` (random sampling) if none is found."""
        for _ in range(8):
            x = self._shown(geometry, geometry.sample(self._rng, 512))
            for point, key in zip(x, self._keys(geometry, x)):
                if key not in taken:
                    return geometry.to_params(point)
        return {}

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # -- choosing ---------------------------------------------------------------------------

    def _choose(
        self,
        state: _State,
        joint: NDArray[np.float64],
        to_pending: NDArray[np.float32],
        count: int,
    ) -> tuple[int | None, float]:
        """The candidate to show next and its score; ``None`` when all were shown.

        ``to_pending``: distances from each trial awaiting rating (rows) to each candidate.
        """
        weights = joint.sum(axis=0)
        available = weights.copy()
        for d in to_pending:  # a waiting trial will tell about its neighbourhood: count it as a miss
            available[d < self.radius] = 0.0
        if available.sum() <= 0:
            available = weights.copy()
        available /= available.sum()
        free = state.free
        if not free.any():
            return None, 0.0

        top = np.argpartition(-available, self.n_proposals)[: self.n_proposals] if len(available) > self.n_proposals \
            else np.arange(len(available))
        extra = self._rng.choice(len(state.z), size=min(len(state.z), self.n_proposals // 2), replace=False)
        proposals = np.unique(np.concatenate([top, extra]))
        proposals = proposals[free[proposals]]
        if len(proposals) == 0:
            proposals = np.flatnonzero(free)[: self.n_proposals]
        score = state.near.sums(available)[proposals]  # the mass within radius of each proposal
        if self.information > 0:
            score = score + self.information * self._information(state, joint, proposals, to_pending, count)
        best = int(np.argmax(score))
        return int(proposals[best]), float(score[best])

    def _information(
        self,
        state: _State,
        joint: NDArray[np.float64],
        proposals: NDArray[np.int64],
        to_pending: NDArray[np.float32],
        count: int,
    ) -> NDArray[np.float64]:
        """Expected information (bits) a rating of each proposal gives about the ideal and the scale.

        Monte Carlo over (scale, ideal) pairs drawn from the posterior; each waiting trial is
        assumed to get its likeliest rating first (a "believer" for the batch).
        """
        cdf = np.cumsum(joint.ravel())  # what rng.choice(p=...) does, without its checks of p (a pass each)
        draws = np.searchsorted(cdf / cdf[-1], self._rng.random(self.n_draws), side="right")
        # A concentrated posterior gives the same pair many times: weigh each distinct pair by its count.
        draws, counts = np.unique(draws, return_counts=True)
        hs, ms = np.divmod(draws, joint.shape[1])
        table, entropy_table, step = self._table(count)
        last = table.shape[1] - 1
        draw_w = (counts / counts.sum()).astype(np.float32)
        for d in to_pending[:, ms]:
            probs = table[hs, np.minimum((d / step).astype(np.int64), last)]  # (draws, levels)
            draw_w = draw_w * probs[:, int(np.argmax(draw_w @ probs))]
            draw_w /= draw_w.sum()
        d = state.measure.between(proposals, ms)
        bins = np.minimum((d / step).astype(np.int64), last)  # (proposals, draws)
        predictive = np.einsum("pdk,d->pk", table[hs[None, :], bins], draw_w)
        entropy = -(predictive * np.log2(predictive)).sum(axis=1)
        return entropy - entropy_table[hs[None, :], bins] @ draw_w

    def _table(self, count: int) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """P(level | distance) and its entropy per grid point, on a fine distance grid (cached)."""
        if count not in self._tables:
            step = _TABLE_RANGE / _TABLE_BINS
            d = (np.arange(_TABLE_BINS) + 0.5) * step
            h = np.arange(len(self._grid_r))
            probs = self._level_probs(np.broadcast_to(d, (len(h), len(d))), h[:, None], count)
            table = np.moveaxis(probs, 0, -1).copy()  # (grid, bins, levels)
            entropy = -(table * np.log2(table)).sum(axis=-1)
            self._tables[count] = (table.astype(np.float32), entropy.astype(np.float32), step)
        return self._tables[count]

    # -- the rating model -------------------------------------------------------------------

    def _cutoffs(self, count: int) -> NDArray[np.float64]:
        """Per grid point (rows), the ``count - 1`` distances separating the levels, best first.

        They reach the span in equal steps, except the best level, ``best_share`` of a step wide.
        """
        steps = max(count - 2, 0) + self._grid_b[:, None]
        return self._grid_r[:, None] * (np.arange(count - 1)[None, :] + self._grid_b[:, None]) / steps

    def _level_probs(self, d: NDArray[np.float64], h: NDArray[np.int64], count: int) -> NDArray[np.float64]:
        """P(level | distance ``d``) under grid points ``h`` (broadcast against ``d``): ``(count,) + d.shape``."""
        cutoffs, t = self._cutoffs(count)[h], self._grid_t[h]
        scale = t + self.relative_noise * d
        below = [_sigmoid((cutoffs[..., k] - d) / scale) for k in range(count - 1)]
        cum = [np.zeros_like(d), *below, np.ones_like(d)]
        probs = np.stack([cum[k + 1] - cum[k] for k in range(count)])
        return (1.0 - self.lapse) * np.clip(probs, 0.0, 1.0) + self.lapse / count

    def _log_likelihood(self, d: NDArray[np.float64], level: int, count: int) -> NDArray[np.float64]:
        """log P(level | distance d) for every grid point (rows) and candidate (columns)."""
        # float32: half the work of float64, and far finer than the model is exact
        cutoffs, t = self._cutoffs(count).astype(np.float32), self._grid_t[:, None].astype(np.float32)
        d = np.asarray(d, dtype=np.float32)
        scale = t + np.float32(self.relative_noise) * d[None, :]
        upper = _sigmoid((cutoffs[:, level, None] - d) / scale) if level < count - 1 else 1.0
        lower = _sigmoid((cutoffs[:, level - 1, None] - d) / scale) if level > 0 else 0.0
        p = np.clip(upper - lower, 0.0, 1.0)
        return np.log(np.float32(1.0 - self.lapse) * p + np.float32(self.lapse / count))

    # -- candidates and trials --------------------------------------------------------------

    def _state_for(self, geometry: Geometry, study_key: tuple[Any, ...]) -> _State:
        signature = (study_key, geometry.signature)
        if self._state is not None and self._state.signature == signature:
            return self._state
        x, keys = self._candidates(geometry)
        z = geometry.normalize(x)
        measure = Measure(geometry, self.output, z)
        self._state = _State(
            signature=signature,
            x=x,
            z=z,
            measure=measure,
            near=_Neighbours.within(measure.between, len(z), self.radius),
            keys=keys,
            by_key=_index_by_key(keys),
            free=np.ones(len(x), dtype=bool),
            log_lik=np.zeros((len(self._grid_r), len(x))),
            history=History(names=geometry.names, locate=lambda raw: self._locate(geometry, raw)),
        )
        return self._state

    def _trials(self, study: optuna.Study, trial: FrozenTrial) -> list[FrozenTrial]:
        """The study's trials, read once per ask (both hooks of one ask want them).

        Read through a :class:`~hitl.queue._feed.TrialFeed`: only the trials that can have changed
        since the last ask, and only what this sampler uses of them.
        """
        key = (_study_key(study), trial.number)
        if self._trials_cache is None or self._trials_cache[0] != key:
            feed = self._feeds.get(key[0])
            if feed is None:
                feed = self._feeds[key[0]] = TrialFeed(study._storage, study._study_id, params=True)
            self._trials_cache = (key, feed.update())
        return self._trials_cache[1]

    def _widget(self, study: optuna.Study) -> Mapping[str, Any] | None:
        """The rating widget registered with the study, read once (reading it reads every note)."""
        key = _study_key(study)
        if key not in self._widgets:
            self._widgets[key] = registered_widget(study)
        return self._widgets[key]

    def _candidates(self, geometry: Geometry) -> tuple[NDArray[np.float64], list[Key]]:
        """Points spread uniformly over the part of the box the output model shows as itself."""
        wanted, found = self.n_candidates, []
        rng = np.random.default_rng(_CANDIDATE_SEED)  # the same candidates whatever the seed: computed once
        for _ in range(64):
            raw = geometry.sample(rng, 2 * wanted)
            shown = self._shown(geometry, raw)
            inside = np.linalg.norm(geometry.normalize(shown) - geometry.normalize(raw), axis=1) < _SELF_TOLERANCE
            found.append(shown[inside])
            if sum(len(f) for f in found) >= wanted:
                break
        x = np.concatenate(found)[:wanted]
        if len(x) < wanted // 4:  # the model shows almost nothing as itself: take its images
            x = self._shown(geometry, geometry.sample(rng, wanted))
        return x, self._keys(geometry, x)

    def _shown(self, geometry: Geometry, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Internal coordinates of the outputs actually shown for internal coordinates ``x``."""
        values = geometry.to_values(x)
        if hasattr(self.output, "shown_points"):
            values = np.asarray(self.output.shown_points(geometry.names, values), dtype=float)
        return geometry.from_values(geometry.round(values))

    def _keys(self, geometry: Geometry, x: NDArray[np.float64]) -> list[Key]:
        """One hashable key per point; equal keys are identical outputs."""
        values = geometry.round(geometry.to_values(x))
        if hasattr(self.output, "output_keys"):
            keys = np.asarray(self.output.output_keys(geometry.names, values))
            return [tuple(int(v) for v in row) for row in keys]
        return [tuple(float(v) for v in row) for row in values]

    def _locate(self, geometry: Geometry, raw: NDArray[np.float64]) -> tuple[NDArray[np.float64], list[Key]]:
        """Trials' parameter rows -> the points shown (normalized) and their output keys."""
        x = geometry.from_values(raw)
        return geometry.normalize(self._shown(geometry, x)), self._keys(geometry, x)

    def _update_likelihood(self, state: _State, levels: Levels) -> None:
        """Add the log-likelihood of ratings not yet counted; start over if the scale changed."""
        history = state.history
        numbers = history.take_new_ratings()
        if levels.signature != state.levels:
            state.log_lik[:] = 0.0
            state.levels = levels.signature
            numbers = list(history.rated)
        if len(numbers) >= _MANY_RATINGS:  # a resumed study: a few ms per rating, once
            _log.info("LocalizationSampler: taking in %d earlier ratings (once per run)", len(numbers))
        for number in numbers:
            d = state.measure.to_candidates(history.points[number][0][None, :])[0]
            state.log_lik += self._log_likelihood(d, levels.level(history.rated[number]), levels.count)


@dataclass
class _State:
    signature: tuple[Any, ...]
    x: NDArray[np.float64]  # candidates, internal (transformed) units
    z: NDArray[np.float64]  # candidates, normalized units
    measure: Measure  # how different outputs look, normalized units
    near: _Neighbours  # of each candidate, the candidates within radius; fixed, so computed once
    keys: list[Key]
    by_key: dict[Key, NDArray[np.int64]]  # the candidates showing each output
    free: NDArray[np.bool_]  # candidates whose output has not been shown
    log_lik: NDArray[np.float64]  # (grid, candidates)
    history: History
    levels: tuple[Any, ...] = ()

    def mark_shown(self, keys: Iterable[Key], taken: Container[Key]) -> None:
        """Update :attr:`free` for the outputs whose shown count changed."""
        for key in keys:
            index = self.by_key.get(key)
            if index is not None:
                self.free[index] = key not in taken


@dataclass(frozen=True)
class _Neighbours:
    """Each candidate's neighbours within a radius, as one flat index (itself included, so none is empty)."""

    index: NDArray[np.int64]  # neighbours of candidate 0, then of candidate 1, ...
    start: NDArray[np.int64]  # where each candidate's neighbours start in ``index``

    @classmethod
    def within(cls, between: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float32]], n: int,
               radius: float) -> _Neighbours:
        """From ``between(rows, columns)``, the distances between candidates."""
        rows, cols, everyone = [], [], np.arange(n)
        for first in range(0, n, 512):  # a block of rows at a time: memory stays small
            r, c = np.nonzero(between(everyone[first:first + 512], everyone) < radius)
            rows.append(r + first)
            cols.append(c)
        row, col = np.concatenate(rows), np.concatenate(cols)
        start = np.searchsorted(row, everyone)
        return cls(index=col.astype(np.int64), start=start.astype(np.int64))

    def sums(self, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """For each candidate, the sum of ``weights`` over its neighbours."""
        return np.add.reduceat(weights[self.index], self.start)


def _index_by_key(keys: Sequence[Key]) -> dict[Key, NDArray[np.int64]]:
    found: dict[Key, list[int]] = {}
    for i, key in enumerate(keys):
        found.setdefault(key, []).append(i)
    return {key: np.array(index, dtype=np.int64) for key, index in found.items()}


def _study_key(study: optuna.Study) -> tuple[Any, ...]:
    return (study.study_name, study._study_id)


def _pair(values: Sequence[float], key: str) -> tuple[float, float]:
    low, high = (float(v) for v in values)
    if not 0 < low <= high:
        raise ValueError(f"{key}={list(values)}: give 0 < low <= high")
    return low, high


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))

