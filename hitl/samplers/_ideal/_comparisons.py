"""The ideal-point model learnt from comparisons: which of two outputs a person prefers."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._ideal._model import _F32
from hitl.samplers._ideal._model import _sigmoid
from hitl.samplers._ideal._model import IdealPointModel


__all__ = ["ComparisonModel"]

_SQRT2 = _F32(np.sqrt(2.0))


class ComparisonModel(IdealPointModel):
    """A posterior over a person's ideal point from choices between outputs (a Thurstone-like likelihood).

    The person is the one of :class:`IdealPointModel`: an output's latent badness is a monotone
    function of its weighted distance from the ideal (0 at the ideal, 1 at the span), seen with
    Gaussian-like noise. Preferring ``a`` to ``b`` has probability
    ``sigmoid((badness(b) - badness(a)) / (noise * sqrt 2))``, and a share ``lapse`` of choices is
    made at random. Ideal, weights, span, curve and noise are learnt as in the rating model; only
    differences of badness matter, so no rating scale is assumed.

    The rating model's two-level predictions (:meth:`level_probs`, level 0: closer to the ideal
    than half the span) stand in for "would this output be liked", which is what the proposal
    (:func:`~hitl.samplers._ideal._proposal.propose`) weighs candidates by.

    Args:
        dims: Number of parameters.
        rng: Random source.
        n_particles, scale_spread, lapse, max_ratings, moves: As :class:`IdealPointModel`'s;
            ``max_ratings`` counts the latest pairs the moves weigh.
    """

    def __init__(self, *, dims: int, rng: np.random.Generator, n_particles: int = 2048, scale_spread: float = 0.4,
                 lapse: float = 0.05, max_ratings: int = 512, moves: int = 4) -> None:
        super().__init__(dims=dims, count=2, rng=rng, n_particles=n_particles, scale_spread=scale_spread,
                         lapse=lapse, max_ratings=max_ratings, moves=moves)
        self.pairs = np.zeros((0, 2 * dims), _F32)  # rows: the preferred output, then the other

    def add_pairs(self, better: NDArray[np.float64], worse: NDArray[np.float64]) -> None:
        """Take in choices: each row of ``better`` (normalized) was preferred to the same row of ``worse``."""
        pairs = np.hstack([np.asarray(better, _F32).reshape(-1, self.dims),
                           np.asarray(worse, _F32).reshape(-1, self.dims)])
        if len(pairs):
            self._log_weight += self._log_likelihood(self.theta, pairs, np.zeros(0, np.int64))
            self.pairs = np.vstack([self.pairs, pairs])
        w = np.exp(self._log_weight - self._log_weight.max())
        if w.sum() ** 2 / (w * w).sum() < self.n_particles / 2:  # effective sample size
            self._resample_move(w / w.sum())

    def add(self, points: NDArray[np.float64], levels: NDArray[np.int64]) -> None:
        raise TypeError("ComparisonModel learns from choices: use add_pairs(better, worse)")

    # -- the rating model's hooks, on pairs ------------------------------------------------------

    def _weighed_data(self) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        return self.pairs[-self.max_ratings:], np.zeros(0, np.int64)  # the latest: the person's taste now

    def _log_likelihood(self, theta: NDArray[np.float64], points: NDArray[np.float32], levels: NDArray[np.int64],
                        ideal_features: NDArray[np.float32] | None = None) -> NDArray[np.float64]:
        """Summed log P(each pair's first output preferred) for each particle; ``levels`` is unused (no features)."""
        if len(points) == 0:
            return np.zeros(len(theta))
        d = self.dims
        t, scale = self._latent(theta, np.vstack([points[:, :d], points[:, d:]]))
        n = len(points)
        margin = (t[:, n:] - t[:, :n]) / (scale[:, :n] * _SQRT2)  # worse's badness above better's
        p = _F32(1.0 - self.lapse) * _sigmoid(margin) + _F32(self.lapse / 2)
        return np.log(p).sum(axis=1, dtype=np.float64)
