"""The rating model: an ordered logit of how far an output is from the person's ideal.

A rating is a noisy, monotone function of the distance, cut into the widget's levels. The cutoffs
are not given: the span (the distance from which every rating is the worst), the width of the
best level and the noise are a grid of hypotheses, weighed by the ratings like the ideal itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


__all__ = ["RatingModel"]

_SPAN_STEPS = 6  # grid points over the span
_SHARE_STEPS = 3  # grid points over the best level's share of a step
_TABLE_RANGE = 2.0  # normalized distances tabulated for the information estimate (beyond: the last bin)
_TABLE_BINS = 800
_PLAIN_SHARE = 0.5  # prior mass of the output model's own measure among the metrics: most people see as it does


class RatingModel:
    """P(level | distance) under each point of a grid over span, best level's width and noise.

    Args:
        span: Range of the grid over the distance from which every rating is the worst.
        best_share: Range of the grid over the best level's width, in steps of the others.
        noise: The grid's rating noise (logistic scale), normalized units.
        relative_noise: Noise growing with distance: perceptual scales are less exact far away.
        lapse: Probability that a rating ignores the output (a slip of the hand).
        metrics: How many ways of measuring the distance are weighed (see
            :class:`~hitl.samplers._localizer._measure.Measure`): the grid holds each of its
            points once per metric, and :meth:`log_likelihood` takes one row of distances per
            metric.
    """

    def __init__(
        self,
        *,
        span: Sequence[float],
        best_share: Sequence[float],
        noise: Sequence[float],
        relative_noise: float,
        lapse: float,
        metrics: int = 1,
    ) -> None:
        self.relative_noise = relative_noise
        self.lapse = lapse
        grid_m, grid_r, grid_b, grid_t = np.meshgrid(
            np.arange(metrics),
            np.geomspace(*_pair(span, "span"), _SPAN_STEPS),
            np.geomspace(*_pair(best_share, "best_share"), _SHARE_STEPS),
            np.asarray(list(noise), dtype=float),
            indexing="ij",
        )
        self.grid_m = grid_m.ravel()
        self.grid_r = grid_r.ravel()
        self.grid_b = grid_b.ravel()
        self.grid_t = grid_t.ravel()
        share = np.where(grid_m == 0, _PLAIN_SHARE, (1.0 - _PLAIN_SHARE) / max(metrics - 1, 1)) if metrics > 1 else 1.0
        self.log_prior = np.log(np.broadcast_to(share, grid_m.shape).ravel() / grid_m[0].size).astype(np.float32)
        """log prior of each grid point: uniform but for the metric, whose first (the output model's) has half."""
        self._tables: dict[int, tuple[NDArray[np.float64], NDArray[np.float64], float]] = {}

    @property
    def size(self) -> int:
        """The number of grid points."""
        return len(self.grid_r)

    def table(self, count: int) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """P(level | distance) and its entropy per grid point, on a fine distance grid (cached)."""
        if count not in self._tables:
            step = _TABLE_RANGE / _TABLE_BINS
            d = (np.arange(_TABLE_BINS) + 0.5) * step
            h = np.arange(len(self.grid_r))
            probs = self.level_probs(np.broadcast_to(d, (len(h), len(d))), h[:, None], count)
            table = np.moveaxis(probs, 0, -1).copy()  # (grid, bins, levels)
            entropy = -(table * np.log2(table)).sum(axis=-1)
            self._tables[count] = (table.astype(np.float32), entropy.astype(np.float32), step)
        return self._tables[count]

    def cutoffs(self, count: int) -> NDArray[np.float64]:
        """Per grid point (rows), the ``count - 1`` distances separating the levels, best first.

        They reach the span in equal steps, except the best level, ``best_share`` of a step wide.
        """
        steps = max(count - 2, 0) + self.grid_b[:, None]
        return self.grid_r[:, None] * (np.arange(count - 1)[None, :] + self.grid_b[:, None]) / steps

    def level_probs(self, d: NDArray[np.float64], h: NDArray[np.int64], count: int) -> NDArray[np.float64]:
        """P(level | distance ``d``) under grid points ``h`` (broadcast against ``d``): ``(count,) + d.shape``."""
        cutoffs, t = self.cutoffs(count)[h], self.grid_t[h]
        scale = t + self.relative_noise * d
        below = [_sigmoid((cutoffs[..., k] - d) / scale) for k in range(count - 1)]
        cum = [np.zeros_like(d), *below, np.ones_like(d)]
        probs = np.stack([cum[k + 1] - cum[k] for k in range(count)])
        return (1.0 - self.lapse) * np.clip(probs, 0.0, 1.0) + self.lapse / count

    def log_likelihood(self, d: NDArray[np.float64], level: int, count: int,
                       rows: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """log P(level | distance) for every grid point (rows) and candidate (columns).

        ``d``: the distances to the candidates, one row per metric. ``rows``: these grid points
        only (default: all).
        """
        rows = np.arange(self.size) if rows is None else rows
        # float32: half the work of float64, and far finer than the model is exact
        cutoffs, t = self.cutoffs(count)[rows].astype(np.float32), self.grid_t[rows, None].astype(np.float32)
        d = np.asarray(d, dtype=np.float32).reshape(-1, np.shape(d)[-1])[self.grid_m[rows]]
        scale = t + np.float32(self.relative_noise) * d
        upper = _sigmoid((cutoffs[:, level, None] - d) / scale) if level < count - 1 else 1.0
        lower = _sigmoid((cutoffs[:, level - 1, None] - d) / scale) if level > 0 else 0.0
        p = np.clip(upper - lower, 0.0, 1.0)
        return np.log(np.float32(1.0 - self.lapse) * p + np.float32(self.lapse / count))


def _pair(values: Sequence[float], key: str) -> tuple[float, float]:
    low, high = (float(v) for v in values)
    if not 0 < low <= high:
        raise ValueError(f"{key}={list(values)}: give 0 < low <= high")
    return low, high


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
