"""Choosing the next output to show: likely good, informative, and unlike what awaits a rating."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._history import Key
from hitl.samplers._ideal._model import IdealPointModel
from hitl.samplers._outputs import keys_of
from hitl.samplers._outputs import shown_of
from hitl.samplers._outputs import unseen_params
from hitl.samplers._space import Geometry


__all__ = ["propose", "propose_params"]


def propose(
    model: IdealPointModel,
    *,
    pending: NDArray[np.float64],
    shown: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    unseen: Callable[[NDArray[np.float64]], NDArray[np.bool_]],
    n_draws: int,
    n_candidates: int,
    information: float,
) -> NDArray[np.float64] | None:
    """The normalized point to show next, or ``None`` when no candidate is unseen.

    Candidates: ideals drawn from the posterior, the same jittered by half the posterior's
    spread, the posterior's mean ideal and points around it, and points at random; each as the
    output model shows it (``shown``), and only those whose output was never shown (``unseen``). Score: the expected rating (0 the worst,
    1 the best) plus ``information`` times the bits a rating of it is expected to tell about
    the model. Trials awaiting a rating (``pending``) count twice over, so a batch spreads
    out: for the expected rating, draws under which they would be rated well lose weight (the
    person would be shown that region already); for the information, each is assumed rated
    at its likeliest level (a "believer").
    """
    rng, d, k = model.rng, model.dims, model.count
    theta = model.draw(n_draws)
    ideals = model.ideals(theta)
    quarter = max(1, n_candidates // 4)
    spread = ideals.std(axis=0) + 1e-3
    mean = ideals.mean(axis=0)
    candidates = shown(np.vstack([
        ideals[:quarter],
        np.clip(ideals[:quarter] + rng.normal(0.0, 0.5, (quarter, d)) * spread, 0.0, 1.0),
        mean[None, :],  # the posterior's centre: the best bet long before any draw lands on it
        np.clip(mean + rng.normal(0.0, 0.5, (quarter, d)) * spread, 0.0, 1.0),
        rng.random((quarter, d)),
    ]))
    candidates = candidates[unseen(candidates)]
    if len(candidates) == 0:
        return None

    goodness = 1.0 - np.arange(k, dtype=np.float32) / (k - 1)  # level 0 (best) is worth 1
    believe = np.full(len(theta), 1.0 / len(theta), dtype=np.float32)
    miss = believe.copy()
    if len(pending):
        for probs in np.moveaxis(model.level_probs(theta, pending), 1, 0):  # (draws, levels) per pending trial
            level = int(np.argmax(believe @ probs))
            believe = believe * probs[:, level]
            believe /= believe.sum()
            miss = miss * (1.0 - probs @ goodness)
        miss /= miss.sum()

    probs = model.level_probs(theta, candidates)  # (draws, candidates, levels)
    score = miss @ (probs @ goodness)
    if information > 0:
        predictive = np.einsum("d,dck->ck", believe, probs)
        entropy = -(predictive * np.log2(predictive)).sum(axis=-1)
        expected = believe @ -(probs * np.log2(probs)).sum(axis=-1)
        score = score + information * (entropy - expected)
    return candidates[int(np.argmax(score))]


def propose_params(
    model: IdealPointModel,
    *,
    geometry: Geometry,
    output: Any,
    rng: np.random.Generator,
    taken: Container[Key],
    pending: NDArray[np.float64],
    n_draws: int,
    n_candidates: int,
    information: float,
) -> dict[str, Any]:
    """:func:`propose` in the study's terms: the parameters to ask, as the output model shows them.

    Outputs in ``taken`` (shown or waiting) are never proposed; when every candidate is taken, a
    random point whose output is new, or ``{}`` (optuna's random sampling) if none is found.
    """

    def shown(z: NDArray[np.float64]) -> NDArray[np.float64]:
        return geometry.normalize(shown_of(output, geometry, geometry.denormalize(z)))

    def unseen(z: NDArray[np.float64]) -> NDArray[np.bool_]:
        return np.array([key not in taken for key in keys_of(output, geometry, geometry.denormalize(z))], dtype=bool)

    z = propose(model, pending=pending, shown=shown, unseen=unseen, n_draws=n_draws,
                n_candidates=n_candidates, information=information)
    if z is None:
        return unseen_params(output, geometry, rng, taken)
    return geometry.to_params(geometry.denormalize(z))
