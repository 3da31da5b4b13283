"""A widget set: the rating form a person fills in, with its objectives' names and directions."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import Any
import warnings

import optuna
from optuna_dashboard import ChoiceWidget
from optuna_dashboard import register_objective_form_widgets
from optuna_dashboard import SliderWidget
from optuna_dashboard import TextInputWidget

from hitl._errors import HitlError


__all__ = ["Objective", "WidgetSet"]

_WIDGET_TYPES = (ChoiceWidget, SliderWidget, TextInputWidget)


@dataclass(frozen=True)
class Objective:
    """One rated quantity: its name in the dashboard, its direction and its form widget."""

    name: str
    direction: str
    widget: ChoiceWidget | SliderWidget | TextInputWidget


class WidgetSet:
    """The forms a person rates with; the study's objectives follow from them.

    Args:
        name: Short name of the set (``choice``, ``slider``...), used in the default study name.
        objectives: One entry per objective, each a mapping with ``name``, ``direction``
            (``minimize`` or ``maximize``) and ``widget`` (an optuna-dashboard form widget).
    """

    def __init__(self, *, name: str, objectives: Sequence[Mapping[str, Any] | Objective]) -> None:
        if not objectives:
            raise HitlError("widget.objectives is empty: give at least one objective with a widget")
        self.name = name
        self.objectives = [_objective(i, o) for i, o in enumerate(objectives)]

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    def signature(self) -> dict[str, Any]:
        """What must match between a stored study and this set; descriptions may change."""
        widgets = []
        for o in self.objectives:
            d = dict(o.widget.to_dict())
            d.pop("description", None)
            widgets.append(d)
        return {"names": self.names, "directions": self.directions, "widgets": widgets}

    def register(self, study: optuna.Study) -> None:
        """Name the study's objectives and show this set's forms in the dashboard."""
        with warnings.catch_warnings():
            # set_metric_names is marked experimental; its only effect is the dashboard's labels.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(self.names)
        register_objective_form_widgets(study, widgets=[o.widget for o in self.objectives])


def _objective(index: int, spec: Mapping[str, Any] | Objective) -> Objective:
    key = f"widget.objectives[{index}]"
    if isinstance(spec, Objective):
        obj = spec
    else:
        missing = {"name", "direction", "widget"} - set(spec)
        if missing:
            raise HitlError(f"{key} lacks {sorted(missing)}: each objective needs name, direction and widget")
        obj = Objective(name=str(spec["name"]), direction=str(spec["direction"]), widget=spec["widget"])
    if obj.direction not in ("minimize", "maximize"):
        raise HitlError(f"{key}.direction={obj.direction!r}: use minimize or maximize")
    if not isinstance(obj.widget, _WIDGET_TYPES):
        raise HitlError(
            f"{key}.widget is {type(obj.widget).__name__}: give a _target_ of "
            "optuna_dashboard.ChoiceWidget, SliderWidget or TextInputWidget"
        )
    _check_widget(key + ".widget", obj.widget)
    return obj


def _check_widget(key: str, widget: ChoiceWidget | SliderWidget | TextInputWidget) -> None:
    if isinstance(widget, ChoiceWidget):
        if len(widget.choices) != len(widget.values):
            raise HitlError(
                f"{key}: {len(widget.choices)} choices but {len(widget.values)} values; "
                "give exactly one value per choice"
            )
        if len(widget.choices) < 2:
            raise HitlError(f"{key}.choices: give at least two choices")
        try:
            widget.values = [float(v) for v in widget.values]
        except (TypeError, ValueError):
            raise HitlError(f"{key}.values={widget.values}: every value must be a number") from None
        if not all(math.isfinite(v) for v in widget.values):
            raise HitlError(f"{key}.values={widget.values}: every value must be a finite number")
    elif isinstance(widget, SliderWidget):
        if not (math.isfinite(widget.min) and math.isfinite(widget.max)):
            raise HitlError(f"{key}: min={widget.min} and max={widget.max} must be finite numbers")
        if not widget.min < widget.max:
            raise HitlError(f"{key}: min={widget.min} must be below max={widget.max}")
        if widget.step is not None and widget.step <= 0:
            raise HitlError(f"{key}.step={widget.step}: must be positive")
        if widget.step is not None and widget.step > widget.max - widget.min:
            raise HitlError(f"{key}.step={widget.step}: must be at most max - min = {widget.max - widget.min:g}")
        for label in widget.labels or []:
            if len(label) != 2:
                raise HitlError(f"{key}.labels: each label is a [value, text] pair, got {label}")
