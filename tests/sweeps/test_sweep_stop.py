"""Stopping a sweep whose jobs run at once (joblib): every job finishes its step, nothing is left running."""

from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import free_port
from tests.conftest import ROOT


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_stopped_joblib_sweep_ends_cleanly(tmp_path: Path, how: str) -> None:
    # 3 jobs on 2 workers: two run (people would rate them), the third has not started when the stop comes
    args = [sys.executable, str(ROOT / "run.py"), "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            "sampler=tpe,random,localizer", "n_trials=20", f"dashboard.port={free_port()}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own process group, as a terminal gives it
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while sum("waiting 4 | rated 0/20" in line for line in lines) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            time.sleep(0.1)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process of the group
        else:
            proc.send_signal(signal.SIGTERM)  # reaches the launching process only
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout=10)
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert out.count("stopped: 0 rating(s) in study") == 2, out  # both running jobs summed up
    assert out.count("the sweep was stopped: this job is skipped") == 1, out
    assert "Traceback" not in out, out
    deadline = time.monotonic() + 15  # workers exit on their own once the launcher has gone
    while _group_alive(proc.pid):
        assert time.monotonic() < deadline, f"processes left behind in group {proc.pid}"
        time.sleep(0.1)
    assert not list((tmp_path / "sweep").glob(".hitl-stop-*"))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
