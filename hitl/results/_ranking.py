"""Ranking the outputs of a comparison study: a Bradley-Terry fit of the choices people made."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import optuna

from hitl.queue._compare import Comparisons


__all__ = ["bradley_terry", "preference_scores"]


def bradley_terry(pairs: Sequence[tuple[int, int]], *, prior_sd: float = 2.0, iterations: int = 30) -> dict[int, float]:
    """Each item's strength from ``(better, worse)`` pairs: P(a preferred to b) = sigmoid(s_a - s_b).

    The maximum a posteriori strengths under a Gaussian prior of ``prior_sd`` (so an output that
    won every comparison gets a finite strength), by Newton's method. Items are the numbers in
    ``pairs``; strengths are centred on 0.
    """
    items = sorted({n for pair in pairs for n in pair})
    if not items:
        return {}
    index = {n: i for i, n in enumerate(items)}
    better = np.array([index[b] for b, _ in pairs])
    worse = np.array([index[w] for _, w in pairs])
    n, precision = len(items), 1.0 / prior_sd**2
    s = np.zeros(n)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(s[better] - s[worse])))  # P(the better one wins), as the model has it
        grad = -precision * s
        np.add.at(grad, better, 1.0 - p)
        np.add.at(grad, worse, -(1.0 - p))
        w = p * (1.0 - p)
        hess = precision * np.eye(n)
        np.add.at(hess, (better, better), w)
        np.add.at(hess, (worse, worse), w)
        np.add.at(hess, (better, worse), -w)
        np.add.at(hess, (worse, better), -w)
        step = np.linalg.solve(hess, grad)
        s += step
        if np.abs(step).max() < 1e-6:
            break
    s -= s.mean()
    return {number: float(s[i]) for number, i in index.items()}


def preference_scores(study: optuna.Study) -> dict[int, float]:
    """The strength of every compared trial of ``study`` (by number), from all its choices."""
    comparisons = Comparisons.of(study._storage.get_study_system_attrs(study._study_id))
    return bradley_terry(comparisons.pairs)
