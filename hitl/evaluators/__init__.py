"""Evaluators: who rates. ``human`` (people in the dashboard) or a simulated rater."""

from hitl.evaluators._color import ColorDistance
from hitl.evaluators._color import SrgbDistance
from hitl.evaluators._photo import PhotoDistance
from hitl.evaluators._simulated import DISTANCE_ATTR
from hitl.evaluators._simulated import SimulatedRater
from hitl.evaluators._sound import SoundDistance


__all__ = ["ColorDistance", "DISTANCE_ATTR", "PhotoDistance", "SimulatedRater", "SoundDistance", "SrgbDistance"]
