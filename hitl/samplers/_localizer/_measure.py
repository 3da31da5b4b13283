"""How different two outputs look, as :class:`~hitl.samplers.LocalizationSampler` measures it."""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._space import Geometry


__all__ = ["Measure"]

_BLOCK = 256  # rows of the candidate matrix computed at once: memory stays small
_KEEP = 4  # candidate matrices kept per process: jobs of a sweep run in one process share one
_MATRICES: dict[tuple[Any, ...], NDArray[np.float16]] = {}  # by output model type and candidates


class Measure:
    """Distances between outputs in normalized units (the widest parameter range is 1), by metric.

    With an output model that has ``distances`` (e.g. CIEDE2000 between the colours shown),
    those: the distances between candidates are computed once, as a matrix (float16: far finer
    than the model is exact; kept for other samplers of the same candidates in this process),
    so an ask only looks them up. Otherwise the Euclidean distance between the normalized
    parameters.

    With ``distance_parts`` too (e.g. CIEDE2000's lightness, chroma and hue), the parts are kept
    instead, and every method answers for each metric of :attr:`weights`: the parts weighed by
    a row of it (row 0 weighs them all 1, the output model's own measure). A person who sees
    lightness less than hue is then measured as they see.

    Args:
        geometry: The search space.
        output: The output model, or anything without ``distances``.
        z: The candidates, normalized.
        emphasis: The weights a person may give each part; every combination (up to a common
            factor) is a metric. ``(1.0,)``: the output model's measure alone.
    """

    def __init__(self, geometry: Geometry, output: Any, z: NDArray[np.float64],
                 emphasis: Sequence[float] = (1.0,)) -> None:
        self._geometry = geometry
        self._z = z
        self._perceived = output.distances if callable(getattr(output, "distances", None)) else None
        parts = getattr(output, "distance_parts", None)
        self._parts = parts if callable(parts) and self._perceived is not None and len(emphasis) > 1 else None
        self._values = self._to_values(z)
        self._matrix: NDArray[np.float16] | None = None
        self.weights = np.ones((1, 1))
        """The metrics (rows) as weights of the distance's parts (columns); row 0 all ones."""
        if self._perceived is not None:
            kind = "parts" if self._parts is not None else "distances"
            key = (type(output).__module__, type(output).__qualname__, kind, hashlib.sha1(self._values.tobytes()).digest())
            self._matrix = _MATRICES.get(key)
            if self._matrix is None:
                self._matrix = _MATRICES[key] = self._all_pairs()
                while len(_MATRICES) > _KEEP:
                    _MATRICES.pop(next(iter(_MATRICES)))
            if self._parts is not None:
                self.weights = metrics(emphasis, self._matrix.shape[-1])

    @property
    def count(self) -> int:
        """The number of metrics."""
        return len(self.weights)

    def to_candidates(self, points: NDArray[np.float64]) -> NDArray[np.float32]:
        """Distances from normalized ``points`` (rows) to every candidate (columns), per metric: ``(metrics, points, candidates)``."""
        if self._perceived is None:
            return np.sqrt(squared_distances(points, self._z))[None]
        return self._combine(self._measure(self._to_values(points), self._values))

    def between(self, rows: NDArray[np.int64], columns: NDArray[np.int64], metric: int | None = None) -> NDArray[np.float32]:
        """Distances between candidates ``rows`` and candidates ``columns``, per metric: ``(metrics, rows, columns)``.

        With ``metric``, by that metric alone: ``(rows, columns)``.
        """
        if self._matrix is None:
            d = np.sqrt(squared_distances(self._z[rows], self._z[columns]))[None]
        else:
            d = self._combine(self._matrix[np.ix_(rows, columns)].astype(np.float32), metric)
        return d if metric is None else d[0]

    def _combine(self, raw: NDArray[np.float32], metric: int | None = None) -> NDArray[np.float32]:
        """Distances per metric (or by ``metric`` alone) from what :meth:`_measure` gives (parts, or distances)."""
        if self._parts is None:
            return raw[None]
        weights = self.weights if metric is None else self.weights[metric:metric + 1]
        squared = np.einsum("mk,rck->mrc", weights.astype(np.float32), raw)
        return np.sqrt(np.maximum(squared, 0.0))

    def _all_pairs(self) -> NDArray[np.float16]:
        n = len(self._values)
        first_block = self._measure(self._values[:1], self._values[:1])
        matrix = np.empty((n, n) + first_block.shape[2:], dtype=np.float16)
        for first in range(0, n, _BLOCK):  # the upper triangle; the measure is symmetric
            block = self._measure(self._values[first:first + _BLOCK], self._values[first:])
            matrix[first:first + _BLOCK, first:] = block
            matrix[first:, first:first + _BLOCK] = np.swapaxes(block, 0, 1)
        return matrix

    def _to_values(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._geometry.to_values(self._geometry.denormalize(np.asarray(z, dtype=float)))

    def _measure(self, a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float32]:
        """Distances ``(len(a), len(b))``, or squared parts ``(len(a), len(b), parts)``, normalized."""
        scale = float(self._geometry.scale.max())
        if self._parts is not None:
            return (np.asarray(self._parts(self._geometry.names, a, b), dtype=np.float64) / scale**2).astype(np.float32)
        assert self._perceived is not None
        d = np.asarray(self._perceived(self._geometry.names, a, b), dtype=np.float64)
        return (d / scale).astype(np.float32)


def metrics(emphasis: Sequence[float], parts: int) -> NDArray[np.float64]:
    """Every combination of ``emphasis`` over ``parts``, as weights with a geometric mean of 1.

    Combinations that differ by a common factor are one metric (the rating model's span absorbs
    the factor). Row 0 is all ones.
    """
    values = np.log(np.asarray(sorted(set(float(e) for e in emphasis)), dtype=float))
    grid = np.array(np.meshgrid(*[values] * parts, indexing="ij")).reshape(parts, -1).T
    grid = np.round(grid - grid.mean(axis=1, keepdims=True), 9)
    unique = np.unique(grid, axis=0)
    ones = np.all(unique == 0, axis=1)
    return np.exp(np.vstack([unique[ones], unique[~ones]]))


def squared_distances(p: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float32]:
    """Pairwise squared Euclidean distances, rows of ``p`` x rows of ``q`` (axis by axis: no BLAS threads)."""
    p32, q32 = np.asarray(p, dtype=np.float32), np.asarray(q, dtype=np.float32)  # half the memory traffic
    out = np.zeros((len(p), len(q)), dtype=np.float32)
    for j in range(p32.shape[1]):
        diff = p32[:, j, None] - q32[None, :, j]
        out += diff * diff
    return out
