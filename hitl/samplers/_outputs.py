"""What a sampler knows of the outputs: which points show as themselves, which look identical."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from collections.abc import Sequence
from typing import Any
from typing import Protocol
from typing import runtime_checkable

import numpy as np
from numpy.typing import NDArray

from hitl.samplers._history import Key
from hitl.samplers._space import Geometry


__all__ = ["OutputModel", "candidates", "features_of", "keys_of", "locate", "shown_of", "unseen_params"]

_SELF_TOLERANCE = 0.01  # a candidate the output model moves further (normalized) is not shown as itself
_CANDIDATE_SEED = 20050101  # candidates are a fixed set; seeds vary the draws and the proposals


@runtime_checkable
class OutputModel(Protocol):
    """What a generator can tell a sampler about the outputs it renders.

    ``output_keys``: one row per point; equal rows mean identical outputs (e.g. the integer
    colour shown). ``shown_points``: the parameters of the output actually shown (after gamut
    mapping or rounding), same shape as ``points``. Optionally also ``distances(names, a, b)``:
    how different the outputs of parameter rows ``a`` and ``b`` look, ``(len(a), len(b))``, on
    the parameters' scale (e.g. CIEDE2000 for colours); without it, the distance between the
    parameters stands in for it. And ``distance_parts(names, a, b)``: the squared distances
    split into parts a person may weigh differently, ``(len(a), len(b), parts)`` summing to
    ``distances ** 2`` (e.g. lightness, chroma and hue), so a sampler can learn the weights.
    And ``features(names, points)``: each row's output as coordinates, ``(len(points), m)``,
    in which straight distance follows how different outputs look (e.g. a photo's thumbnail in
    DIN99o), or ``(len(points), m, parts)`` with parts a person may weigh differently (its
    lightness and two colour axes): ``IdealPointSampler`` measures the person's distance to
    their ideal there, learning the parts' weights; it is called on a few thousand rows per
    rating, so keep it to milliseconds.
    """

    def output_keys(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.int64]: ...

    def shown_points(self, names: Sequence[str], points: NDArray[np.float64]) -> NDArray[np.float64]: ...


def candidates(output: Any, geometry: Geometry, wanted: int) -> tuple[NDArray[np.float64], list[Key]]:
    """``wanted`` points spread uniformly over the part of the box ``output`` shows as itself."""
    found = []
    rng = np.random.default_rng(_CANDIDATE_SEED)  # the same candidates whatever the seed: computed once
    for _ in range(64):
        raw = geometry.sample(rng, 2 * wanted)
        seen = shown_of(output, geometry, raw)
        inside = np.linalg.norm(geometry.normalize(seen) - geometry.normalize(raw), axis=1) < _SELF_TOLERANCE
        found.append(seen[inside])
        if sum(len(f) for f in found) >= wanted:
            break
    x = np.concatenate(found)[:wanted]
    if len(x) < wanted // 4:  # the model shows almost nothing as itself: take its images
        x = shown_of(output, geometry, geometry.sample(rng, wanted))
    return x, keys_of(output, geometry, x)


def features_of(output: Any, geometry: Geometry) -> Callable[[NDArray[np.float64]], NDArray[np.float64]] | None:
    """The generator's ``features`` as a function of normalized points, or ``None`` if it has none."""
    if not callable(getattr(output, "features", None)):
        return None
    names = list(geometry.names)
    return lambda z: np.asarray(output.features(names, geometry.to_values(geometry.denormalize(np.asarray(z, float)))))


def shown_of(output: Any, geometry: Geometry, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Internal coordinates of the outputs actually shown for internal coordinates ``x``."""
    values = geometry.to_values(x)
    if hasattr(output, "shown_points"):
        values = np.asarray(output.shown_points(geometry.names, values), dtype=float)
    return geometry.from_values(geometry.round(values))


def keys_of(output: Any, geometry: Geometry, x: NDArray[np.float64]) -> list[Key]:
    """One hashable key per point; equal keys are identical outputs."""
    values = geometry.round(geometry.to_values(x))
    if hasattr(output, "output_keys"):
        rows = np.asarray(output.output_keys(geometry.names, values))
        return [tuple(int(v) for v in row) for row in rows]
    return [tuple(float(v) for v in row) for row in values]


def locate(output: Any, geometry: Geometry, raw: NDArray[np.float64]) -> tuple[NDArray[np.float64], list[Key]]:
    """Trials' parameter rows -> the points shown (normalized) and their output keys."""
    x = geometry.from_values(raw)
    return geometry.normalize(shown_of(output, geometry, x)), keys_of(output, geometry, x)


def unseen_params(output: Any, geometry: Geometry, rng: np.random.Generator, taken: Container[Key]) -> dict[str, Any]:
    """A random point whose output has not been shown; ``{}`` (optuna's random sampling) if none is found."""
    for _ in range(8):
        x = shown_of(output, geometry, geometry.sample(rng, 512))
        for point, key in zip(x, keys_of(output, geometry, x)):
            if key not in taken:
                return geometry.to_params(point)
    return {}
