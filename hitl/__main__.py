"""``python -m hitl``: the ``hitl`` command."""

from hitl._command import command


command()
