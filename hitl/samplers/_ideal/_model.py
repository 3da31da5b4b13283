"""The ideal-point model: what a person wants, and how they rate, as a cloud of weighted guesses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


__all__ = ["IdealPointModel"]

_F32 = np.float32  # half the memory traffic of float64, far finer than ratings are exact
_SPAN = (0.15, 1.2)  # distance (in units of the box's diagonal / sqrt(d)) from which all ratings are the worst
_CURVE = (0.5, 2.0)  # exponent bending distance into rating levels (a rater strict near the ideal, or lenient)
_NOISE = (0.02, 0.25)  # rating noise as a share of the whole scale
_COUPLED_SD = 1.0  # prior sd of the coupled direction's components, in units of an average parameter's weight
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
    """

    def __init__(self, *, dims: int, count: int, rng: np.random.Generator, n_particles: int = 2048,
                 scale_spread: float = 0.4, lapse: float = 0.03, max_ratings: int = 256, moves: int = 4,
                 coupling: float = 0.0) -> None:
        self.dims, self.count, self.rng = dims, count, rng
        self.n_particles = n_particles
        self.scale_spread = scale_spread
        self.lapse = lapse
        self.max_ratings = max_ratings
        self.moves = moves
        self.coupling = coupling
        self.points = np.zeros((0, dims), _F32)
        self.levels = np.zeros(0, np.int64)
        self.theta = self._prior(n_particles)
        self._log_weight = np.zeros(n_particles)
        d = dims
        self._bounds = [(slice(2 * d, 2 * d + 1), _SPAN), (slice(2 * d + 1, 2 * d + 2), _CURVE),
                        (slice(2 * d + 2, 2 * d + 3), _NOISE)]

    # theta's columns: the ideal (d), log weights before centring (d), log span, log curve, log noise,
    # the coupled direction (d), its gate (0 or 1)

    def add(self, points: NDArray[np.float64], levels: NDArray[np.int64]) -> None:
        """Take in ratings: ``points`` (normalized rows) rated ``levels`` (0 the best)."""
        points = np.asarray(points, _F32).reshape(-1, self.dims)
        levels = np.asarray(levels, np.int64).reshape(-1)
        if len(points):
            self._log_weight += self._log_likelihood(self.theta, points, levels)
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
        cut = np.arange(k - 1, dtype=_F32) + _F32(0.5)
        below = _sigmoid((cut[None, None, :] - t[..., None]) / scale[..., None])
        zero, one = np.zeros_like(t)[..., None], np.ones_like(t)[..., None]
        p = np.clip(np.diff(np.concatenate([zero, below, one], axis=-1), axis=-1), 0.0, 1.0)
        return _F32(1.0 - self.lapse) * p + _F32(self.lapse / k)

    # -- internals ----------------------------------------------------------------------------

    def _prior(self, n: int) -> NDArray[np.float64]:
        r, d = self.rng, self.dims
        columns = [r.random((n, d)), r.normal(0.0, self.scale_spread, (n, d))]
        columns += [r.uniform(np.log(low), np.log(high), (n, 1)) for low, high in (_SPAN, _CURVE, _NOISE)]
        columns += [r.normal(0.0, _COUPLED_SD, (n, d)), (r.random((n, 1)) < self.coupling).astype(float)]
        return np.hstack(columns)

    def _log_prior(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        d = self.dims
        ok = np.all((theta[:, :d] >= 0.0) & (theta[:, :d] <= 1.0), axis=1)
        for columns, (low, high) in self._bounds:
            ok &= (theta[:, columns][:, 0] >= np.log(low)) & (theta[:, columns][:, 0] <= np.log(high))
        log_p = -0.5 * np.sum((theta[:, d:2 * d] / self.scale_spread) ** 2, axis=1)
        log_p = log_p - 0.5 * np.sum((theta[:, 2 * d + 3:3 * d + 3] / _COUPLED_SD) ** 2, axis=1)
        with np.errstate(divide="ignore"):  # coupling 0 or 1: the other kind of guess is impossible
            log_p = log_p + np.where(theta[:, 3 * d + 3] > 0.5, np.log(self.coupling), np.log1p(-self.coupling))
        return np.where(ok, log_p, -np.inf)

    def _latent(self, theta: NDArray[np.float64], points: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The rating each particle expects at each point on the level scale, and its noise scale."""
        d, k = self.dims, self.count
        ideal = theta[:, :d].astype(_F32)
        log_w = theta[:, d:2 * d]
        span = np.exp(theta[:, 2 * d:2 * d + 1]) * np.sqrt(d)
        w = (np.exp(log_w - log_w.mean(axis=1, keepdims=True)) / span).astype(_F32)
        squared = np.zeros((len(theta), len(points)), _F32)
        for j in range(d):  # axis by axis: no (particles, points, d) array, no BLAS threads
            diff = (points[None, :, j] - ideal[:, j, None]) * w[:, j, None]
            squared += diff * diff
        coupled = theta[:, 3 * d + 3] > 0.5
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

    def _log_likelihood(self, theta: NDArray[np.float64], points: NDArray[np.float32],
                        levels: NDArray[np.int64]) -> NDArray[np.float64]:
        """Summed log P(levels | points) for each particle."""
        if len(points) == 0:
            return np.zeros(len(theta))
        k = self.count
        t, scale = self._latent(theta, points)
        lv = levels.astype(_F32)[None, :]
        upper = np.where(levels < k - 1, _sigmoid((lv + _F32(0.5) - t) / scale), _F32(1.0))
        lower = np.where(levels > 0, _sigmoid((lv - _F32(0.5) - t) / scale), _F32(0.0))
        p = _F32(1.0 - self.lapse) * np.clip(upper - lower, 0.0, 1.0) + _F32(self.lapse / k)
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
        self.theta = self.theta[np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)]
        points, levels = self._weighed_data()
        log_lik = self._log_likelihood(self.theta, points, levels)
        log_prior = self._log_prior(self.theta)
        for _ in range(self.moves):
            step = self.theta.std(axis=0) * 0.6 + 1e-4  # follows the cloud's own spread, axis by axis
            step[-1] = 0.0  # the coupling switch is flipped, not moved
            proposal = self.theta + self.rng.normal(0.0, 1.0, self.theta.shape) * step
            if 0 < self.coupling < 1:
                flip = self.rng.random(n) < _FLIP
                proposal[flip, -1] = 1.0 - proposal[flip, -1]
            prior_p = self._log_prior(proposal)
            inside = np.isfinite(prior_p)
            lik_p = np.full(n, -np.inf)
            if inside.any():
                lik_p[inside] = self._log_likelihood(proposal[inside], points, levels)
            accept = np.log(self.rng.random(n)) < lik_p + prior_p - log_lik - log_prior
            self.theta[accept] = proposal[accept]
            log_lik[accept], log_prior[accept] = lik_p[accept], prior_p[accept]
        self._log_weight = np.zeros(n)


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return _F32(0.5) * (_F32(1.0) + np.tanh(_F32(0.5) * x))
