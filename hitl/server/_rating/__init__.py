"""The rating view: one output at a time, rated with one keypress, by several people at once.

- ``_view``: the routes (page, static files, JSON API);
- ``_holds``: which rater holds which waiting output;
- ``_tells``: ratings stored with their rater's name, told once enough people rated, undoable;
- ``_records``: what the view stores on a trial, and how it reads a trial back;
- ``static/``: the page (plain HTML, JavaScript and CSS: nothing to build).
"""

from hitl.server._rating._records import K_ATTR
from hitl.server._rating._records import BATCH_ATTR
from hitl.server._rating._records import RATER_ATTR
from hitl.server._rating._records import RATING_PREFIX
from hitl.server._rating._view import RATER_ENV
from hitl.server._rating._view import RatingView


__all__ = ["BATCH_ATTR", "K_ATTR", "RATER_ATTR", "RATER_ENV", "RATING_PREFIX", "RatingView"]
