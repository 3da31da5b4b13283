"""The numeric search space and the rating scale as hitl's samplers see them."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.study import StudyDirection


__all__ = ["Geometry", "Levels", "recorded_space", "registered_widget"]

_WIDGETS_ATTR = "dashboard:form_widgets:v2"  # where optuna-dashboard stores the rating forms


class Geometry:
    """The numeric search space: transforms (log), bounds, normalization, rounding."""

    def __init__(self, space: Mapping[str, BaseDistribution], isotropic: bool) -> None:
        self.names = list(space)
        self.dists = [space[n] for n in self.names]
        self.log = np.array([bool(getattr(d, "log", False)) for d in self.dists])
        low = np.array([float(d.low) for d in self.dists])
        high = np.array([float(d.high) for d in self.dists])
        self.low = np.where(self.log, np.log(np.maximum(low, 1e-300)), low)
        self.high = np.where(self.log, np.log(np.maximum(high, 1e-300)), high)
        span = np.maximum(self.high - self.low, 1e-12)
        self.scale = np.full_like(span, span.max()) if isotropic else span
        self.signature = tuple((n, repr(d)) for n, d in zip(self.names, self.dists)) + (isotropic,)

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return self.low + rng.random((n, len(self.names))) * (self.high - self.low)

    def normalize(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return (x - self.low) / self.scale

    def denormalize(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.low + z * self.scale

    def to_values(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(self.log, np.exp(x), x)

    def from_values(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(self.log, np.log(np.maximum(values, 1e-300)), values)

    def round(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values as the distributions store them: within bounds, integers on their step."""
        out = np.array(values, dtype=float, copy=True)
        for j, d in enumerate(self.dists):
            column = np.clip(out[:, j], d.low, d.high)
            step = getattr(d, "step", None)
            if step is not None and not getattr(d, "log", False):
                column = d.low + np.round((column - d.low) / step) * step
                column = np.clip(column, d.low, d.high)
            out[:, j] = column
        return out

    def to_params(self, x: NDArray[np.float64]) -> dict[str, Any]:
        values = self.round(self.to_values(x[None, :]))[0]
        params: dict[str, Any] = {}
        for name, d, v in zip(self.names, self.dists, values):
            params[name] = int(round(v)) if isinstance(d, IntDistribution) else float(v)
        return params


@dataclass(frozen=True)
class Levels:
    """Rating values -> ordinal levels, 0 the best, from the registered widget when there is one."""

    count: int
    best: float
    step: float
    values: tuple[float, ...] = ()

    @property
    def signature(self) -> tuple[Any, ...]:
        return (self.count, self.best, self.step, self.values)

    def level(self, value: float) -> int:
        if self.values:
            return int(np.argmin([abs(value - v) for v in self.values]))
        if self.step <= 0:
            return 0
        return int(min(self.count - 1, max(0, round(abs(value - self.best) / self.step))))

    @classmethod
    def of(cls, study: optuna.Study, widget: Mapping[str, Any] | None, observed: Collection[float]) -> Levels:
        maximize = study.direction == StudyDirection.MAXIMIZE
        if widget is not None and widget.get("type") == "choice" and widget.get("values"):
            ranked = tuple(sorted((float(v) for v in widget["values"]), reverse=maximize))
            return cls(count=len(ranked), best=ranked[0], step=0.0, values=ranked)
        if widget is not None and widget.get("type") == "slider":
            low, high = float(widget["min"]), float(widget["max"])
            step = float(widget.get("step") or (high - low) / 9.0)
            return cls(count=int(round((high - low) / step)) + 1, best=high if maximize else low, step=step)
        # A free-form scale: up to ten levels over the range seen so far.
        if not observed:
            return cls(count=2, best=0.0, step=0.0)
        distinct = sorted(set(float(v) for v in observed), reverse=maximize)
        if len(distinct) <= 10:
            return cls(count=max(2, len(distinct)), best=distinct[0], step=0.0, values=tuple(distinct))
        span = abs(distinct[-1] - distinct[0])
        return cls(count=10, best=distinct[0], step=span / 9.0)


def registered_widget(study: optuna.Study) -> dict[str, Any] | None:
    try:
        attrs = study._storage.get_study_system_attrs(study._study_id)
    except Exception:  # noqa: BLE001 - a storage without system attrs: fall back to the values
        return None
    forms = attrs.get(_WIDGETS_ATTR)
    if not isinstance(forms, Mapping) or forms.get("output_type") != "objective":
        return None
    widgets = forms.get("widgets") or []
    return widgets[0] if widgets and isinstance(widgets[0], Mapping) else None


class _Recorder:
    """Stands in for a trial to learn a generator's search space before any trial has params."""

    def __init__(self) -> None:
        self.space: dict[str, BaseDistribution] = {}

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        self.space[name] = FloatDistribution(low, high, step=step, log=log)
        return low

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        self.space[name] = IntDistribution(low, high, step=step, log=log)
        return low

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return choices[0]


def recorded_space(output: Any) -> dict[str, BaseDistribution]:
    suggest: Callable[[Any], Any] | None = getattr(output, "suggest", None)
    if suggest is None:
        return {}
    recorder = _Recorder()
    try:
        suggest(recorder)
    except Exception:  # noqa: BLE001 - an unusual generator: learn the space from the first trial
        return {}
    return {n: d for n, d in recorder.space.items() if not d.single()}
