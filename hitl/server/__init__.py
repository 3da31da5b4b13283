"""What a person rates in: Optuna Dashboard served in-process, the rating view beside it (one
output at a time, several people at once, behind tokens if asked), and the rating form (widget set).
"""

from hitl.server._access import Access

from hitl.server._dashboard import check_host
from hitl.server._dashboard import EmbeddedDashboard
from hitl.server._guard import check_rating
from hitl.server._rating import RatingView
from hitl.server._settings import announce
from hitl.server._settings import build_dashboard
from hitl.server._settings import check_rating_knobs
from hitl.server._widgets import Objective
from hitl.server._widgets import WidgetSet


__all__ = [
    "Access", "EmbeddedDashboard", "Objective", "RatingView", "WidgetSet", "announce", "build_dashboard",
    "check_host", "check_rating", "check_rating_knobs",
]
