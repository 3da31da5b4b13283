"""The app: a composed config turned into a running human-in-the-loop study.

:func:`run` opens the storage and the study (refusing one that holds another experiment), serves
the dashboard, runs the loop and a simulated rater if configured, and returns a
:class:`Summary`; :func:`main` is the same for the command line (``run.py``).
"""

from hitl.app._main import main
from hitl.app._run import run
from hitl.app._study import check_study_name
from hitl.app._study import open_study
from hitl.app._summary import Summary


__all__ = ["Summary", "check_study_name", "main", "open_study", "run"]
