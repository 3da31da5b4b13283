"""What a person rates in: Optuna Dashboard served in-process, and the rating form (widget set)
it shows under each waiting trial.
"""

from hitl.server._dashboard import check_host
from hitl.server._dashboard import EmbeddedDashboard
from hitl.server._widgets import Objective
from hitl.server._widgets import WidgetSet


__all__ = ["EmbeddedDashboard", "Objective", "WidgetSet", "check_host"]
