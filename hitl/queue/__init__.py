"""The queue: the loop that keeps ``batch`` rendered trials awaiting a person's rating, and what
keeps that queue consistent across workers sharing one study.

- ``_loop``: the loop itself (count, refill, wait for ratings, stop);
- ``_step``: the step that makes one trial (ask, render, upload, note, ready);
- ``_repair``: the repair of half-made trials a dead worker left;
- ``_claim``: the study-wide lock under which the queue is counted and a trial claimed;
- ``_lease``: which worker is making which trial;
- ``_records``: a trial's records stored together, in one transaction;
- ``_feed``, ``_tally``: the study's trials and counts, reading only what changed;
- ``_shown``: the outputs already shown, so none is shown twice;
- ``_note``: the trial note a person sees;
- ``_attrs``: the attributes hitl stores on a trial.
"""

from hitl.queue._attrs import ERROR_ATTR
from hitl.queue._attrs import READY_ATTR
from hitl.queue._loop import Loop
from hitl.queue._tally import Progress


__all__ = ["ERROR_ATTR", "Loop", "Progress", "READY_ATTR"]
