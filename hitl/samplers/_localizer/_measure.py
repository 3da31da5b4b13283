"""How different two outputs look, as :class:`~hitl.samplers.LocalizationSampler` measures it."""

from __future__ import annotations

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
    """Distances between outputs in normalized units (the widest parameter range is 1).

    With an output model that has ``distances`` (e.g. CIEDE2000 between the colours shown),
    those: the distances between candidates are computed once, as a matrix (float16: far finer
    than the model is exact; kept for other samplers of the same candidates in this process),
    so an ask only looks them up. Otherwise the Euclidean distance between the normalized
    parameters.

    Args:
        geometry: The search space.
        output: The output model, or anything without ``distances``.
        z: The candidates, normalized.
    """

    def __init__(self, geometry: Geometry, output: Any, z: NDArray[np.float64]) -> None:
        self._geometry = geometry
        self._z = z
        self._perceived = output.distances if callable(getattr(output, "distances", None)) else None
        self._values = self._to_values(z)
        self._matrix: NDArray[np.float16] | None = None
        if self._perceived is not None:
            key = (type(output).__module__, type(output).__qualname__, hashlib.sha1(self._values.tobytes()).digest())
            self._matrix = _MATRICES.get(key)
            if self._matrix is None:
                self._matrix = _MATRICES[key] = self._all_pairs()
                while len(_MATRICES) > _KEEP:
                    _MATRICES.pop(next(iter(_MATRICES)))

    def to_candidates(self, points: NDArray[np.float64]) -> NDArray[np.float32]:
        """Distances from normalized ``points`` (rows) to every candidate (columns)."""
        if self._perceived is None:
            return np.sqrt(squared_distances(points, self._z))
        return self._measure(self._to_values(points), self._values)

    def between(self, rows: NDArray[np.int64], columns: NDArray[np.int64]) -> NDArray[np.float32]:
        """Distances between candidates ``rows`` and candidates ``columns``."""
        if self._matrix is None:
            return np.sqrt(squared_distances(self._z[rows], self._z[columns]))
        return self._matrix[np.ix_(rows, columns)].astype(np.float32)

    def _all_pairs(self) -> NDArray[np.float16]:
        n = len(self._values)
        matrix = np.empty((n, n), dtype=np.float16)
        for first in range(0, n, _BLOCK):  # the upper triangle; the measure is symmetric
            block = self._measure(self._values[first:first + _BLOCK], self._values[first:])
            matrix[first:first + _BLOCK, first:] = block
            matrix[first:, first:first + _BLOCK] = block.T
        return matrix

    def _to_values(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._geometry.to_values(self._geometry.denormalize(np.asarray(z, dtype=float)))

    def _measure(self, a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float32]:
        assert self._perceived is not None
        d = np.asarray(self._perceived(self._geometry.names, a, b), dtype=np.float64)
        return (d / float(self._geometry.scale.max())).astype(np.float32)


def squared_distances(p: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float32]:
    """Pairwise squared Euclidean distances, rows of ``p`` x rows of ``q`` (axis by axis: no BLAS threads)."""
    p32, q32 = np.asarray(p, dtype=np.float32), np.asarray(q, dtype=np.float32)  # half the memory traffic
    out = np.zeros((len(p), len(q)), dtype=np.float32)
    for j in range(p32.shape[1]):
        diff = p32[:, j, None] - q32[None, :, j]
        out += diff * diff
    return out
