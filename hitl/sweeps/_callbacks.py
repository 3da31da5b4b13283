"""Hydra callbacks for sweeps (``-m``); ``conf/config.yaml`` registers them."""

from __future__ import annotations

import logging
import os
from pathlib import Path
import signal
import threading
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from optuna.storages import InMemoryStorage

from hitl.config import build
from hitl.config import build_storage
from hitl.config import scrub_saved_configs
from hitl.server import EmbeddedDashboard
from hitl.server import build_dashboard
from hitl.sweeps._jobs import DASHBOARD_ENV
from hitl.sweeps._jobs import new_sweep_id
from hitl.sweeps._jobs import SWEEP_ID_ENV
from hitl.sweeps._report import compare
from hitl.sweeps._report import format_table
from hitl.sweeps._report import load_results
from hitl.sweeps._report import write_comparison
from hitl.sweeps._stop import stop_file


__all__ = ["SweepDashboard", "SweepReport", "SweepStop"]

_log = logging.getLogger("hitl")


class SweepDashboard(Callback):
    """One dashboard for all of a sweep's studies, served by the process that launches the jobs.

    Jobs, run one after another or at once (joblib), then serve none of their own, so
    there is one address to rate at and no port clash.
    """

    def __init__(self) -> None:
        self._dashboard: EmbeddedDashboard | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Launchers that run jobs in other processes pickle the callbacks; the server stays here.
        return {"_dashboard": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not config.dashboard.enabled:
            return
        storage = build_storage(config.storage)
        if isinstance(storage, InMemoryStorage):
            _log.warning("storage=memory: each job keeps its own study in its own memory; each serves its own dashboard")
            return
        # the same server, tokens, hold and undo window as a single run's: a sweep is no less exposed
        self._dashboard = build_dashboard(config.dashboard, storage=storage,
                                          artifact_store=build(config.artifacts, "artifacts"), on_tell=None).start()
        os.environ[DASHBOARD_ENV] = self._dashboard.url
        url, access = self._dashboard.url, self._dashboard.access
        _log.info("rate this sweep's studies at %s", access.link(f"{url}/dashboard", admin=True))
        if access.enabled:  # the jobs' own links carry no token: people take theirs here, once
            links = {name: f"{url}/rate?token={token}" for name, token in access.rater_tokens.items()}
            for name, link in (links or {"raters": access.link(f"{url}/rate")}).items():
                _log.info("%s pick a study to rate at %s", name, link)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._dashboard is not None:
            self._dashboard.stop()
            self._dashboard = None
            os.environ.pop(DASHBOARD_ENV, None)


class SweepReport(Callback):
    """Names the sweep when it starts; writes the comparison table and plot when its jobs are done."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        os.environ[SWEEP_ID_ENV] = new_sweep_id()  # jobs inherit it, wherever the launcher runs them

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        scrub_saved_configs(sweep_dir)  # multirun.yaml, whether or not a job ran to scrub it
        sweep_id = os.environ.get(SWEEP_ID_ENV)
        paths = write_comparison(sweep_dir, sweep_id)
        if not paths:
            _log.info("no simulated ratings in %s: no comparison written", sweep_dir)
        else:
            results = load_results(sweep_dir, sweep_id)
            _log.info("comparison of %d job(s):\n%s", len(results), format_table(compare(results)))
            _log.info("comparison written to %s", ", ".join(str(p) for p in paths))
        os.environ.pop(SWEEP_ID_ENV, None)


class SweepStop(Callback):
    """Ctrl-C or SIGTERM stop the whole sweep after each job's step in hand (see ``hitl.sweeps._stop``).

    While the jobs run, this process ignores Ctrl-C (the jobs, and worker processes started now,
    handle it themselves) and turns SIGTERM into the sweep's stop file; a second SIGTERM exits at once.
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_previous": {}}  # launchers pickle callbacks; signal handlers stay in this process

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        path = stop_file(config.hydra.sweep.dir)

        def terminate(signum: int, frame: Any) -> None:
            if path.exists():
                raise SystemExit(128 + signum)
            _log.info("SIGTERM: the sweep stops after each job's step in hand (again to exit at once)")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

        self._previous = {
            signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
            signal.SIGTERM: signal.signal(signal.SIGTERM, terminate),
        }

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        path = stop_file(config.hydra.sweep.dir)
        if path.exists():
            _log.info("the sweep was stopped (Ctrl-C or SIGTERM): jobs not started by then were skipped")
            path.unlink()
