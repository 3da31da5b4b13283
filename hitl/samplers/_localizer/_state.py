"""What the sampler keeps between asks: the candidate ideals, their neighbours and their weights."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._history import History
from hitl.samplers._history import Key
from hitl.samplers._localizer._measure import Measure
from hitl.samplers._localizer._model import RatingModel


if TYPE_CHECKING:  # the proposer reads the state: a cycle at run time
    from hitl.samplers._localizer._proposal import Proposer


__all__ = ["Neighbours", "State", "index_by_key"]


@dataclass
class State:
    """The candidates of one study and search space, and the log-likelihood of the ratings so far."""

    signature: tuple[Any, ...]
    x: NDArray[np.float64]  # candidates, internal (transformed) units
    z: NDArray[np.float64]  # candidates, normalized units
    measure: Measure  # how different outputs look, normalized units
    near: Neighbours  # of each candidate, the candidates within radius; fixed, so computed once
    keys: list[Key]
    by_key: dict[Key, NDArray[np.int64]]  # the candidates showing each output
    free: NDArray[np.bool_]  # candidates whose output has not been shown
    log_lik: NDArray[np.float32]  # (grid, candidates): log prior plus log-likelihood; float32 is far finer than needed
    model: RatingModel  # its grid holds each hypothesis once per metric of ``measure``
    alive: NDArray[np.int64]  # the grid points whose posterior mass is not negligible: the only ones updated
    proposer: Proposer
    history: History
    levels: tuple[Any, ...] = ()

    def mark_shown(self, keys: Iterable[Key], taken: Container[Key]) -> None:
        """Update :attr:`free` for the outputs whose shown count changed."""
        for key in keys:
            index = self.by_key.get(key)
            if index is not None:
                self.free[index] = key not in taken


@dataclass(frozen=True)
class Neighbours:
    """Each candidate's neighbours within a radius, as one flat index (itself included, so none is empty)."""

    index: NDArray[np.int64]  # neighbours of candidate 0, then of candidate 1, ...
    start: NDArray[np.int64]  # where each candidate's neighbours start in ``index``

    @classmethod
    def within(cls, between: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float32]], n: int,
               radius: float) -> Neighbours:
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


def index_by_key(keys: Sequence[Key]) -> dict[Key, NDArray[np.int64]]:
    """The candidates (indices) showing each output key."""
    found: dict[Key, list[int]] = {}
    for i, key in enumerate(keys):
        found.setdefault(key, []).append(i)
    return {key: np.array(index, dtype=np.int64) for key, index in found.items()}
