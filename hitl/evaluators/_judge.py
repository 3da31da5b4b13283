"""Mapping a simulated person's judgement (a distance, lower is better) onto any widget set."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
from optuna_dashboard import TextInputWidget

from hitl.server import Objective


__all__ = ["nearest", "random_value", "rate"]


def rate(objective: Objective, distance: float, *, thresholds: Sequence[float], worst: float) -> float:
    """The value a person would enter in ``objective``'s widget for an output ``distance`` away.

    Choice: the best choice (by the objective's direction) below ``thresholds[0]``, the next
    below ``thresholds[1]``..., the worst beyond the last; with more or fewer choices than
    bins, bins spread evenly over the choices. Slider: linear from its best end at distance 0
    to its worst end at ``worst``, on its step. Text: ``100 - distance`` (floored at 0) when
    maximized, the distance itself when minimized.
    """
    widget = objective.widget
    maximize = objective.direction == "maximize"
    if isinstance(widget, ChoiceWidget):
        ranked = sorted(widget.values, reverse=maximize)  # best first
        level = sum(distance >= t for t in thresholds)  # 0 = best bin
        index = round(level * (len(ranked) - 1) / max(1, len(thresholds)))
        return float(ranked[index])
    if isinstance(widget, SliderWidget):
        goodness = min(1.0, max(0.0, 1.0 - distance / worst))
        span = widget.max - widget.min
        value = widget.min + (goodness if maximize else 1.0 - goodness) * span
        if widget.step:
            value = widget.min + round((value - widget.min) / widget.step) * widget.step
        return float(min(widget.max, max(widget.min, value)))
    if isinstance(widget, TextInputWidget):
        return round(max(0.0, 100.0 - distance), 2) if maximize else round(distance, 2)
    raise TypeError(f"no simulated judgement for {type(widget).__name__}")


def random_value(objective: Objective, rng: np.random.Generator) -> float:
    """A rating given without looking: uniform over the widget's values (0..100 when typed)."""
    widget = objective.widget
    if isinstance(widget, ChoiceWidget):
        return float(widget.values[int(rng.integers(len(widget.values)))])
    if isinstance(widget, SliderWidget):
        if widget.step:
            steps = int(round((widget.max - widget.min) / widget.step))
            return float(widget.min + int(rng.integers(steps + 1)) * widget.step)
        return float(rng.uniform(widget.min, widget.max))
    if isinstance(widget, TextInputWidget):
        return round(float(rng.uniform(0.0, 100.0)), 2)
    raise TypeError(f"no simulated judgement for {type(widget).__name__}")


def nearest(objective: Objective, value: float, levels: Sequence[float]) -> float:
    """A slider ``value`` moved to the nearest of ``levels`` (ties go to the lower); others unchanged."""
    if not isinstance(objective.widget, SliderWidget):
        return value
    return float(min(levels, key=lambda level: (abs(level - value), level)))
