"""Evaluators: who rates. ``human`` (people in the dashboard) or a simulated rater."""

from hitl.evaluators._color import ColorDistance
from hitl.evaluators._simulated import DISTANCE_ATTR
from hitl.evaluators._simulated import SimulatedRater


__all__ = ["ColorDistance", "DISTANCE_ATTR", "SimulatedRater"]
