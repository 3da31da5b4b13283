"""The comparison view: the candidates of a comparison study side by side, the worst chosen with one keypress.

- ``_view``: the routes (the page for a comparison study, its script, the JSON API);
- ``static/``: the page (plain HTML and JavaScript: nothing to build).
"""

from hitl.server._compare._view import ComparisonView


__all__ = ["ComparisonView"]
