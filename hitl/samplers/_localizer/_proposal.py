"""The proposal: the candidate to show next, scored ``P(hit) + information * bits``.

``P(hit)`` is the posterior mass of the ideal within ``radius`` of the candidate (the chance it is
rated best); the bits are the expected information its rating gives. Trials still awaiting a
rating count as misses for the first term and as their likeliest rating for the second, so a
batch spreads out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._localizer._model import RatingModel
from hitl.samplers._localizer._state import State


__all__ = ["Proposer"]


class Proposer:
    """Chooses the candidate to show next.

    Args:
        model: The rating model (its grid is the posterior's first axis).
        radius: How near the ideal counts as a hit, in normalized units.
        information: Weight of the expected information (bits) against the hit probability.
        n_proposals: Candidates scored per ask: the likeliest, plus half as many at random.
        n_draws: Posterior draws for the information estimate.
    """

    def __init__(self, *, model: RatingModel, radius: float, information: float, n_proposals: int,
                 n_draws: int) -> None:
        self.model = model
        self.radius = radius
        self.information = information
        self.n_proposals = n_proposals
        self.n_draws = n_draws

    def choose(
        self,
        state: State,
        joint: NDArray[np.float64],
        to_pending: NDArray[np.float32],
        count: int,
        rng: np.random.Generator,
    ) -> tuple[int | None, float]:
        """The candidate to show next and its score; ``None`` when all were shown.

        ``joint``: the posterior over the model's grid points ``state.alive`` (its rows) and the candidates.

        ``to_pending``: distances from each trial awaiting rating to each candidate, per metric
        of ``state.measure``: ``(metrics, pending, candidates)``.
        """
        weights = joint.sum(axis=0)
        available = weights.copy()
        for d in to_pending[0]:  # a waiting trial will tell about its neighbourhood: count it as a miss
            available[d < self.radius] = 0.0
        if available.sum() <= 0:
            available = weights.copy()
        available /= available.sum()
        free = state.free
        if not free.any():
            return None, 0.0

        top = np.argpartition(-available, self.n_proposals)[: self.n_proposals] if len(available) > self.n_proposals \
            else np.arange(len(available))
        extra = rng.choice(len(state.z), size=min(len(state.z), self.n_proposals // 2), replace=False)
        proposals = np.unique(np.concatenate([top, extra]))
        proposals = proposals[free[proposals]]
        if len(proposals) == 0:
            proposals = np.flatnonzero(free)[: self.n_proposals]
        score = state.near.sums(available)[proposals]  # the mass within radius of each proposal
        if self.information > 0:
            score = score + self.information * self._information(state, joint, proposals, to_pending, count, rng)
        best = int(np.argmax(score))
        return int(proposals[best]), float(score[best])

    def _information(
        self,
        state: State,
        joint: NDArray[np.float64],
        proposals: NDArray[np.int64],
        to_pending: NDArray[np.float32],
        count: int,
        rng: np.random.Generator,
    ) -> NDArray[np.float64]:
        """Expected information (bits) a rating of each proposal gives about the ideal and the scale.

        Monte Carlo over (scale, ideal) pairs drawn from the posterior; each waiting trial is
        assumed to get its likeliest rating first (a "believer" for the batch).
        """
        hs, ms = _draw(joint, self.n_draws, rng)
        # A concentrated posterior gives the same pair many times: weigh each distinct pair by its count.
        draws, counts = np.unique(hs * joint.shape[1] + ms, return_counts=True)
        hs, ms = np.divmod(draws, joint.shape[1])
        hs = state.alive[hs]  # the model's own grid points
        table, entropy_table, step = self.model.table(count)
        last = table.shape[1] - 1
        draw_w = (counts / counts.sum()).astype(np.float32)
        metric = self.model.grid_m[hs]  # each draw measures by its own metric
        for d in np.moveaxis(to_pending[metric, :, ms], 1, 0):  # (draws,) per waiting trial
            probs = table[hs, np.minimum((d / step).astype(np.int64), last)]  # (draws, levels)
            draw_w = draw_w * probs[:, int(np.argmax(draw_w @ probs))]
            draw_w /= draw_w.sum()
        d = state.measure.between(proposals, ms)[metric[None, :], np.arange(len(proposals))[:, None], np.arange(len(ms))]
        bins = np.minimum((d / step).astype(np.int64), last)  # (proposals, draws)
        predictive = np.einsum("pdk,d->pk", table[hs[None, :], bins], draw_w)
        entropy = -(predictive * np.log2(predictive)).sum(axis=1)
        return entropy - entropy_table[hs[None, :], bins] @ draw_w


def _draw(joint: NDArray[np.float32], n: int, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``n`` (grid point, candidate) pairs drawn from ``joint``: a grid point, then a candidate in its row.

    Two stages in float64: one cumulative sum over the whole joint would lose the smallest
    masses to float32 rounding, and cost a pass over every cell.
    """
    rows = joint.sum(axis=1, dtype=np.float64)
    cdf = np.cumsum(rows)
    hs = np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n), side="right"), len(rows) - 1)
    ms = np.empty(n, dtype=np.int64)
    for h in np.unique(hs):
        where = np.flatnonzero(hs == h)
        row = np.cumsum(joint[h], dtype=np.float64)
        ms[where] = np.minimum(np.searchsorted(row / row[-1], rng.random(len(where)), side="right"), len(row) - 1)
    return hs, ms
