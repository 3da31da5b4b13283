"""The ideal-point model: what a person wants, and how they rate, as a cloud of weighted guesses."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray


__all__ = ["IdealPointModel"]

_F32 = np.float32  # half the memory traffic of float64, far finer than ratings are exact
_SPAN = (0.15, 1.2)  # distance (in units of the box's diagonal / sqrt(d)) from which all ratings are the worst
_CURVE = (0.5, 2.0)  # exponent bending distance into rating levels (a rater strict near the ideal, or lenient)
_NOISE = (0.02, 0.25)  # rating noise as a share of the whole scale
_COUPLED_SD = 1.0  # prior sd of the coupled direction's components, in units of an average parameter's weight
_PART_SD = 1.0  # prior sd of a feature part's log weight: photo anisotropic 15.5 against 23 at 0.7, steady 13 against 11.5 (40 runs)
_FLIP = 0.2  # chance a Metropolis step proposes switching a guess's coupling on or off


class IdealPointModel:
    """A posterior over a person's ideal point and rating scale, from ordinal ratings.

    The person has an ideal point ``c`` in the normalized box ``[0, 1]^d``. A rating of a point
    ``x`` is a noisy, monotone function of the weighted distance ``||w * (x - c)||``, cut into
    ``count`` levels (0 the best): the weights ``w`` (one per parameter: how much it matters to
    the person), the span (the distance from which every rating is the worst), a curve and the
    noise are all unknown and learned with ``c``. A share ``lapse`` of ratings ignore the output.

    Parameters often act together on what is seen (a photo's exposure and gamma both brighten
    it; warmth and saturation both colour it), so that moving along one mixed direction matters
    far more than any parameter alone. With probability ``coupling`` a guess holds such a
    direction ``u``, adding ``(u . (x - c))^2`` to the squared distance; guesses with and without
    one compete on the ratings, so the extra term survives only where the ratings call for it.

    Some people use only a few points of the scale (1, 5 and 10 on a slider): their 5 then
    means anything between their 1 and their 10, not exactly 5. With probability ``coarse``
    a guess reads each rating as the interval between the midpoints to the neighbouring levels
    this person has used so far (the best and the worst always count as used), instead of the
    level's own width; again the ratings decide.

    A generator that can place its outputs in a space where straight distance follows how
    different they look (``features``: a photo's thumbnail in DIN99o) lets the model measure the
    distance there instead: ``||f(x) - f(c)||``, on a scale where random outputs lie as far
    apart as random points of the box. The parameters' weights and the coupled direction then
    have nothing to describe (how the parameters act together is in ``f``) and are left out.
    Features given as ``(rows, m, parts)`` (a thumbnail's lightness and two colour axes) get a
    weight per part, learned like the parameters' weights: a person may see less lightness
    and more hue than the features' own scale says.

    The posterior is a cloud of weighted particles: each new rating reweighs them; when the
    weights grow uneven the cloud is resampled and moved by Metropolis steps, so it follows the
    posterior anywhere in the box instead of living on a fixed grid (which in 6 or 12
    dimensions is far too sparse).

    Args:
        dims: Number of parameters.
        count: Number of rating levels.
        rng: Random source.
        n_particles: Size of the cloud.
        scale_spread: Prior standard deviation of each parameter's log weight around the common
            one: how much more one parameter may matter than another.
        lapse: Share of ratings that ignore the output.
        max_ratings: Ratings the moves weigh at most (the best half and the latest half), so an
            update costs the same at 300 or 10,000 ratings.
        moves: Metropolis steps after each resampling.
        coupling: Prior probability that the parameters act together along one direction.
        coarse: Prior probability that the person uses only some levels of the scale.
        features: Normalized points (rows) -> their outputs' coordinates (rows), or ``None``
            to measure distance in the parameters.
    """

    def __init__(self, *, dims: int, count: int, rng: np.random.Generator, n_particles: int = 2048,
                 scale_spread: float = 0.4, lapse: float = 0.03, max_ratings: int = 256, moves: int = 4,
                 coupling: float = 0.0, coarse: float = 0.0,
                 features: Callable[[NDArray[np.float32]], NDArray[np.float32]] | None = None) -> None:
        self.dims, self.count, self.rng = dims, count, rng
        self.n_particles = n_particles
        self.scale_spread = scale_spread
        self.lapse = lapse
        self.max_ratings = max_ratings
        self.moves = moves
        self.features = features
        self.coupling = 0.0 if features is not None else coupling
        self.coarse = coarse
        # the features' scale, and their parts with a weight of their own (one part: no weighing)
        self._feature_scale, self._parts = self._scale_of(features) if features is not None else (1.0, 0)
        # the levels this person has given, ascending; the scale's ends always count as used, so the
        # coarse reading keeps a best (and a worst) rating above those given so far
        self.used = np.array(sorted({0, count - 1}), np.int64)
        self.points = np.zeros((0, dims), _F32)
        self.levels = np.zeros(0, np.int64)
        self.theta = self._prior(n_particles)
        self._theta_features = self._ideal_features(self.theta)  # kept beside theta: moves change few rows
        self._log_weight = np.zeros(n_particles)
        d = dims
        self._bounds = [(slice(2 * d, 2 * d + 1), _SPAN), (slice(2 * d + 1, 2 * d + 2), _CURVE),
                        (slice(2 * d + 2, 2 * d + 3), _NOISE)]

    # theta's columns: the ideal (d), log weights before centring (d), log span, log curve, log noise,
    # the coupled direction (d), the features' parts' log weights before centring (one per part;
    # none without features), the coupled direction's gate (0 or 1), the coarse reading's gate (0 or 1)

    def add(self, points: NDArray[np.float64], levels: NDArray[np.int64]) -> None:
        """Take in ratings: ``points`` (normalized rows) rated ``levels`` (0 the best)."""
        points = np.asarray(points, _F32).reshape(-1, self.dims)
        levels = np.asarray(levels, np.int64).reshape(-1)
        if len(points):
            used = np.union1d(self.used, levels)
            if len(used) > len(self.used) and len(self.points) and 0 < self.coarse:
                # a newly used level narrows what the earlier ratings of the coarse reading mean
                old = self._weighed_data()
                before = self._log_likelihood(self.theta, *old, self._theta_features)
                self.used = used
                self._log_weight += self._log_likelihood(self.theta, *old, self._theta_features) - before
            self.used = used
            self._log_weight += self._log_likelihood(self.theta, points, levels, self._theta_features)
            self.points = np.vstack([self.points, points])
            self.levels = np.concatenate([self.levels, levels])
        w = np.exp(self._log_weight - self._log_weight.max())
        if w.sum() ** 2 / (w * w).sum() < self.n_particles / 2:  # effective sample size
            self._resample_move(w / w.sum())

    def draw(self, n: int) -> NDArray[np.float64]:
        """``n`` particles drawn by weight (rows of theta)."""
        w = np.exp(self._log_weight - self._log_weight.max())
        cdf = np.cumsum(w)
        index = np.searchsorted(cdf, self.rng.random(n) * cdf[-1], side="right")
        return self.theta[np.minimum(index, self.n_particles - 1)]

    def ideals(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return theta[:, : self.dims]

    def level_probs(self, theta: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float32]:
        """P(level) for each particle (rows) and point: shape ``(particles, points, count)``."""
        k = self.count
        t, scale = self._latent(theta, np.asarray(points, _F32))
        p = self._interval_probs(t, scale, np.arange(k - 1, dtype=_F32) + _F32(0.5))
        coarse = theta[:, -1] > 0.5
        if coarse.any():  # the coarse reading: only the used levels, each over its interval
            _, upper = self._coarse_cuts()
            p_used = self._interval_probs(t[coarse], scale[coarse], upper[:-1])
            p_coarse = np.zeros_like(p[coarse])
            p_coarse[..., self.used] = p_used
            p[coarse] = p_coarse
        return _F32(1.0 - self.lapse) * p + _F32(self.lapse / k)

    # -- internals ----------------------------------------------------------------------------

    def _ideal_features(self, theta: NDArray[np.float64]) -> NDArray[np.float32] | None:
        """The features of the guesses' ideals, or ``None`` when distance is measured in the parameters."""
        return None if self.features is None else self._embed(theta[:, : self.dims].astype(_F32))

    def _embed(self, points: NDArray[np.float32]) -> NDArray[np.float32]:
        """The features of ``points`` on the box's scale, as ``(rows, m, parts)``."""
        assert self.features is not None
        f = np.asarray(self.features(points), _F32) * _F32(self._feature_scale)
        return f.reshape(len(f), -1, self._parts)

    def _scale_of(self, features: Callable[[NDArray[np.float32]], NDArray[np.float32]]) -> tuple[float, int]:
        """The factor that sets random outputs as far apart as random points of the box, and the parts."""
        rng = np.random.default_rng(0)  # not the model's stream: the same scale whatever the seed
        f = np.asarray(features(rng.random((256, self.dims)).astype(_F32)), np.float64)
        parts = f.shape[2] if f.ndim == 3 else 1
        f = f.reshape(len(f), -1)
        apart = np.sqrt(np.mean(np.sum((f[:128] - f[128:]) ** 2, axis=1)))
        return (float(np.sqrt(self.dims / 6.0) / apart) if apart > 0 else 1.0), parts  # E|x - y|^2 = d / 6 in the box

    @staticmethod
    def _interval_probs(t: NDArray[np.float32], scale: NDArray[np.float32], cuts: NDArray[np.float32]) -> NDArray[np.float32]:
        """P(each interval between ``cuts`` (ascending), open at both ends): shape ``t.shape + (len(cuts) + 1,)``."""
        below = _sigmoid((cuts.astype(_F32) - t[..., None]) / scale[..., None])
        zero, one = np.zeros_like(t)[..., None], np.ones_like(t)[..., None]
        return np.clip(np.diff(np.concatenate([zero, below, one], axis=-1), axis=-1), 0.0, 1.0)

    def _coarse_cuts(self) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Each used level's interval as the coarse reading takes it: lower and upper cuts (ends open)."""
        used = self.used
        mid = (used[1:] + used[:-1]).astype(_F32) / _F32(2.0)
        return np.concatenate([[-np.inf], mid]).astype(_F32), np.concatenate([mid, [np.inf]]).astype(_F32)

    def _prior(self, n: int) -> NDArray[np.float64]:
        r, d = self.rng, self.dims
        columns = [r.random((n, d)), r.normal(0.0, self.scale_spread, (n, d))]
        columns += [r.uniform(np.log(low), np.log(high), (n, 1)) for low, high in (_SPAN, _CURVE, _NOISE)]
        columns += [r.normal(0.0, _COUPLED_SD, (n, d)), r.normal(0.0, _PART_SD, (n, self._parts)),
                    (r.random((n, 1)) < self.coupling).astype(float), (r.random((n, 1)) < self.coarse).astype(float)]
        return np.hstack(columns)

    def _log_prior(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        d = self.dims
        ok = np.all((theta[:, :d] >= 0.0) & (theta[:, :d] <= 1.0), axis=1)
        for columns, (low, high) in self._bounds:
            ok &= (theta[:, columns][:, 0] >= np.log(low)) & (theta[:, columns][:, 0] <= np.log(high))
        log_p = -0.5 * np.sum((theta[:, d:2 * d] / self.scale_spread) ** 2, axis=1)
        log_p = log_p - 0.5 * np.sum((theta[:, 2 * d + 3:3 * d + 3] / _COUPLED_SD) ** 2, axis=1)
        log_p = log_p - 0.5 * np.sum((theta[:, 3 * d + 3:3 * d + 3 + self._parts] / _PART_SD) ** 2, axis=1)
        with np.errstate(divide="ignore"):  # coupling 0 or 1: the other kind of guess is impossible
            log_p = log_p + np.where(theta[:, -2] > 0.5, np.log(self.coupling), np.log1p(-self.coupling))
            log_p = log_p + np.where(theta[:, -1] > 0.5, np.log(self.coarse), np.log1p(-self.coarse))
        return np.where(ok, log_p, -np.inf)

    def _latent(self, theta: NDArray[np.float64], points: NDArray[np.float32],
                ideal_features: NDArray[np.float32] | None = None) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The rating each particle expects at each point on the level scale, and its noise scale.

        ``ideal_features``: the particles' ideals' features when already known (else computed).
        """
        d, k = self.dims, self.count
        ideal = theta[:, :d].astype(_F32)
        log_w = theta[:, d:2 * d]
        span = np.exp(theta[:, 2 * d:2 * d + 1]) * np.sqrt(d)
        w = (np.exp(log_w - log_w.mean(axis=1, keepdims=True)) / span).astype(_F32)
        squared = np.zeros((len(theta), len(points)), _F32)
        if self.features is not None:
            f_ideal = self._embed(ideal) if ideal_features is None else ideal_features  # (rows, m, parts)
            f_point = self._embed(points)
            log_part = theta[:, 3 * d + 3:3 * d + 3 + self._parts]
            part_w = np.exp(2.0 * (log_part - log_part.mean(axis=1, keepdims=True))) / (span * span)
            for j in range(self._parts):  # each part's squared distance: |a|^2 + |b|^2 - 2 a.b, one product
                a, b = f_ideal[..., j], f_point[..., j]
                part = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
                squared += np.maximum(part, 0.0) * part_w[:, j, None].astype(_F32)
        else:
            for j in range(d):  # axis by axis: no (particles, points, d) array, no BLAS threads
                diff = (points[None, :, j] - ideal[:, j, None]) * w[:, j, None]
                squared += diff * diff
        coupled = theta[:, -2] > 0.5
        if coupled.any():
            u = (theta[coupled, 2 * d + 3:3 * d + 3] / span[coupled]).astype(_F32)
            along = np.zeros((int(coupled.sum()), len(points)), _F32)
            for j in range(d):
                along += (points[None, :, j] - ideal[coupled, j, None]) * u[:, j, None]
            squared[coupled] += along * along
        curve = np.exp(theta[:, 2 * d + 1]).astype(_F32)[:, None]
        t = _F32(k - 1) * np.sqrt(squared) ** curve
        scale = (_F32(k - 1) * np.exp(theta[:, 2 * d + 2]).astype(_F32))[:, None]
        return t, np.broadcast_to(scale, t.shape)

    def _log_likelihood(self, theta: NDArray[np.float64], points: NDArray[np.float32], levels: NDArray[np.int64],
                        ideal_features: NDArray[np.float32] | None = None) -> NDArray[np.float64]:
        """Summed log P(levels | points) for each particle (``ideal_features``: as :meth:`_latent`'s)."""
        if len(points) == 0:
            return np.zeros(len(theta))
        k = self.count
        t, scale = self._latent(theta, points, ideal_features)
        lv = levels.astype(_F32)
        low_cut = np.where(levels > 0, lv - _F32(0.5), -np.inf).astype(_F32)
        high_cut = np.where(levels < k - 1, lv + _F32(0.5), np.inf).astype(_F32)
        coarse = theta[:, -1] > 0.5
        low_cut, high_cut = np.broadcast_to(low_cut, t.shape), np.broadcast_to(high_cut, t.shape)
        if coarse.any():
            lower, upper = self._coarse_cuts()
            at = np.searchsorted(self.used, levels)
            low_cut, high_cut = low_cut.copy(), high_cut.copy()
            low_cut[coarse], high_cut[coarse] = lower[at], upper[at]
        upper_p = _sigmoid((high_cut - t) / scale)
        lower_p = _sigmoid((low_cut - t) / scale)
        p = _F32(1.0 - self.lapse) * np.clip(upper_p - lower_p, 0.0, 1.0) + _F32(self.lapse / k)
        return np.log(p).sum(axis=1, dtype=np.float64)

    def _weighed_data(self) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        n, cap = len(self.points), self.max_ratings
        if n <= cap:
            return self.points, self.levels
        best = np.argsort(self.levels, kind="stable")[: cap // 2]
        keep = np.unique(np.concatenate([best, np.arange(n - cap // 2, n)]))
        return self.points[keep], self.levels[keep]

    def _resample_move(self, weights: NDArray[np.float64]) -> None:
        n = self.n_particles
        positions = (self.rng.random() + np.arange(n)) / n  # systematic resampling
        chosen = np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)
        self.theta = self.theta[chosen]
        features = None if self._theta_features is None else self._theta_features[chosen]
        points, levels = self._weighed_data()
        log_lik = self._log_likelihood(self.theta, points, levels, features)
        log_prior = self._log_prior(self.theta)
        for _ in range(self.moves):
            step = self.theta.std(axis=0) * 0.6 + 1e-4  # follows the cloud's own spread, axis by axis
            step[-2:] = 0.0  # the switches are flipped, not moved
            proposal = self.theta + self.rng.normal(0.0, 1.0, self.theta.shape) * step
            for column, prior in ((-2, self.coupling), (-1, self.coarse)):
                if 0 < prior < 1:
                    flip = self.rng.random(n) < _FLIP
                    proposal[flip, column] = 1.0 - proposal[flip, column]
            prior_p = self._log_prior(proposal)
            inside = np.isfinite(prior_p)
            lik_p = np.full(n, -np.inf)
            proposed = self._ideal_features(proposal[inside]) if inside.any() else None
            if inside.any():
                lik_p[inside] = self._log_likelihood(proposal[inside], points, levels, proposed)
            accept = np.log(self.rng.random(n)) < lik_p + prior_p - log_lik - log_prior
            self.theta[accept] = proposal[accept]
            if features is not None and proposed is not None:  # accepted rows are inside: their features are known
                features[accept] = proposed[accept[inside]]
            log_lik[accept], log_prior[accept] = lik_p[accept], prior_p[accept]
        self._theta_features = features
        self._log_weight = np.zeros(n)


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return _F32(0.5) * (_F32(1.0) + np.tanh(_F32(0.5) * x))
