"""hitl: human-in-the-loop optimization on Optuna and Optuna Dashboard, configured with Hydra."""

from hitl._errors import HitlError
from hitl.app import main
from hitl.app import run
from hitl.app import Summary
from hitl.config import check_overrides
from hitl.config import register_configs
from hitl.queue import Loop
from hitl.queue import Progress
from hitl.server import Objective
from hitl.server import WidgetSet


__all__ = [
    "HitlError",
    "Loop",
    "Objective",
    "Progress",
    "Summary",
    "WidgetSet",
    "check_overrides",
    "main",
    "register_configs",
    "run",
]
