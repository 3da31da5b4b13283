"""Sweeps (``python run.py -m ...``): one study per job, one dashboard for them all, a stop that
reaches every job, and the comparison of the settings swept when the jobs are done.

The Hydra callbacks (``SweepDashboard``, ``SweepReport``, ``SweepStop``) run in the process that
launches the jobs; ``conf/config.yaml`` registers them. The rest runs in each job.
"""

from hitl.sweeps._callbacks import SweepDashboard
from hitl.sweeps._callbacks import SweepReport
from hitl.sweeps._callbacks import SweepStop
from hitl.sweeps._jobs import RESULT_FILE
from hitl.sweeps._jobs import sweep_dashboard_url
from hitl.sweeps._jobs import sweep_study_name
from hitl.sweeps._jobs import write_job_result
from hitl.sweeps._report import compare
from hitl.sweeps._report import format_table
from hitl.sweeps._report import write_comparison
from hitl.sweeps._stop import request_sweep_stop
from hitl.sweeps._stop import tag_job_logs
from hitl.sweeps._stop import watch_sweep_stop


__all__ = [
    "RESULT_FILE",
    "SweepDashboard",
    "SweepReport",
    "SweepStop",
    "compare",
    "format_table",
    "request_sweep_stop",
    "sweep_dashboard_url",
    "sweep_study_name",
    "tag_job_logs",
    "watch_sweep_stop",
    "write_comparison",
    "write_job_result",
]
