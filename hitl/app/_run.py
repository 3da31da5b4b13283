"""Wiring: the composed config into storage, study, dashboard and loop; one call runs it all."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import copy
import logging
from pathlib import Path
import signal
import threading
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
import optuna

from hitl._errors import HitlError
from hitl.app._knobs import check_knobs
from hitl.app._study import check_study_name
from hitl.app._mode import announce_comparisons
from hitl.app._mode import check_sampler
from hitl.app._mode import comparison_summary
from hitl.app._mode import open_study_in_mode
from hitl.app._mode import start_comparer
from hitl.app._study import open_study
from hitl.app._summary import best_colour
from hitl.app._summary import log_summary
from hitl.app._summary import rating_label
from hitl.app._summary import Summary
from hitl.config import build
from hitl.config import build_storage
from hitl.config import describe_storage
from hitl.config import disk_full
from hitl.config import full_storage_message
from hitl.queue import Loop
from hitl.results import shared_plotlyjs_folder
from hitl.results import write_results
from hitl.server import check_host
from hitl.server import announce
from hitl.server import build_dashboard
from hitl.server import WidgetSet
from hitl.sweeps import request_sweep_stop
from hitl.sweeps import sweep_dashboard_url
from hitl.sweeps import sweep_study_name
from hitl.sweeps import tag_job_logs
from hitl.sweeps import watch_sweep_stop
from hitl.sweeps import write_job_result


__all__ = ["run"]

_log = logging.getLogger("hitl")


def run(cfg: DictConfig) -> Summary | None:
    """Run the human-in-the-loop loop the config describes, until it stops.

    Every user-fixable problem raises :class:`~hitl.HitlError` before anything is written.
    Ctrl-C or SIGTERM at any point from here on stops after the step in hand (in a sweep: every
    job does, and the jobs not started yet are skipped: then this returns ``None``).
    """
    stop = threading.Event()
    with tag_job_logs(), _stop_on_signals(stop), watch_sweep_stop(stop):
        if stop.is_set():
            _log.info("the sweep was stopped: this job is skipped")
            return None
        return _run(cfg, stop)


def _run(cfg: DictConfig, stop: threading.Event) -> Summary:
    check_knobs(cfg)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # hitl logs its own progress
    widgets = build(cfg.widget, "widget")
    if not isinstance(widgets, WidgetSet):
        raise HitlError(f"widget: _target_ must be hitl.WidgetSet, got {type(widgets).__name__}")
    generator = build(cfg.generator, "generator")
    if not (callable(getattr(generator, "suggest", None)) and callable(getattr(generator, "render", None))):
        raise HitlError("generator: its _target_ must be a hitl.generators.Generator subclass (suggest and render)")
    sampler = build(cfg.sampler, "sampler")
    if cfg.sampler.get("_target_") != "hitl.samplers.auto":  # auto logs its own choice, and why
        _log.info("sampler: %s", type(sampler).__name__)
    check_sampler(cfg.mode.name, sampler)
    _probe(sampler, generator)
    artifact_store = build(cfg.artifacts, "artifacts")
    rater = None if cfg.evaluator.rater is None else build(cfg.evaluator.rater, "evaluator.rater")
    check_study_name(cfg.study_name)  # the user's own name, before a sweep adds its job's overrides
    study_name = sweep_study_name(cfg.study_name)
    check_study_name(study_name)
    if cfg.dashboard.enabled:
        check_host(cfg.dashboard.host)
    storage = build_storage(cfg.storage)
    # a study of another widget set or generator is refused here, before anything is written
    try:
        study, existed = open_study_in_mode(mode=cfg.mode.name, batch=cfg.batch, storage=storage, study_name=study_name,
                                            sampler=sampler, widgets=widgets,
                                    generator=generator)
    except HitlError:
        raise
    except Exception as exc:
        if disk_full(exc):  # else a traceback: a bug, not bad input
            raise HitlError(full_storage_message(storage, exc)) from None
        raise
    try:
        return _serve(cfg, stop, storage=storage, study=study, existed=existed, widgets=widgets,
                      generator=generator, artifact_store=artifact_store, rater=rater)
    except HitlError as exc:
        exc.after_start = True  # type: ignore[attr-defined]  # the run's logs are worth keeping
        raise


def _serve(cfg: DictConfig, stop: threading.Event, *, storage: Any, study: optuna.Study, existed: bool,
           widgets: WidgetSet, generator: Any, artifact_store: Any, rater: Any) -> Summary:
    where = describe_storage(storage)
    _log.info("%s study '%s' in %s", "resuming" if existed else "created", study.study_name, where)

    wakeup, rater_stop = threading.Event(), threading.Event()
    dashboard, dashboard_url = None, sweep_dashboard_url()
    if cfg.dashboard.enabled and dashboard_url is None:
        dashboard = build_dashboard(cfg.dashboard, storage=storage, artifact_store=artifact_store,
                                    on_tell=wakeup.set).start()
        dashboard_url = dashboard.url
    comparing = cfg.mode.name == "preferential"
    if cfg.dashboard.enabled and comparing:
        announce_comparisons(study, url=dashboard_url, dashboard=dashboard)
    elif cfg.dashboard.enabled:
        announce(study, url=dashboard_url, dashboard=dashboard, batch=cfg.batch,
                 raters_per_output=cfg.raters_per_output)
    elif rater is None:
        _log.info("no dashboard here (dashboard.enabled=false): rate where one serves this storage, e.g. "
                  "optuna-dashboard %s --artifact-dir %s", where, getattr(artifact_store, "base_path", "<artifacts>"))
    loop = Loop(
        study=study, generator=generator, artifact_store=artifact_store, batch=cfg.batch,
        n_trials=cfg.n_trials, timeout=cfg.timeout, poll_interval=cfg.poll_interval,
        wakeup=wakeup, stop=stop, lease=cfg.lease, rating_label=rating_label(widgets), comparisons=comparing,
    )
    rater_thread = None
    token = dashboard.access.admin_token if dashboard is not None else None  # a simulated rater may rate anything
    if rater is not None and comparing:
        rater_thread = start_comparer(rater, study=study, artifact_store=artifact_store, batch=cfg.batch,
                                      dashboard_url=dashboard_url if cfg.dashboard.enabled else None,
                                      wakeup=wakeup, stop=rater_stop, queue_full=loop.queue_full, dashboard_token=token,
                                      on_failure=stop.set)
    elif rater is not None:
        rater_thread = rater.start(study=study, widgets=widgets, artifact_store=artifact_store,
                                   dashboard_url=dashboard_url if cfg.dashboard.enabled else None,
                                   wakeup=wakeup, stop=rater_stop, queue_full=loop.queue_full, on_failure=stop.set,
                                   dashboard_token=token)
    try:
        reason = loop.run()
    finally:
        rater_stop.set()
        if rater_thread is not None:
            rater_thread.join()
        if dashboard is not None:
            dashboard.stop()
    if getattr(rater, "disk_full", None) is not None:  # the loop stopped for it: no summary of a broken run
        raise HitlError(full_storage_message(storage, rater.disk_full))
    if getattr(rater, "failure", None) is not None:
        raise HitlError(f"evaluator.rater: the simulated rater failed on {rater.failure} (traceback in run.log); "
                        "the run stopped rather than wait for ratings that never come: fix the scorer, or rate "
                        "by hand with evaluator=human")
    progress = loop.progress()
    if comparing:
        progress = comparison_summary(study, progress)
    best_params = None
    if progress.best_number is not None:
        best_params = study.trials[progress.best_number].params
    summary = Summary(
        study_name=study.study_name, reason=reason, rated=progress.rated, waiting=progress.waiting,
        best_number=progress.best_number, best_value=progress.best_value, best_params=best_params,
        storage=where, artifacts=str(getattr(artifact_store, "base_path", type(artifact_store).__name__)),
        dashboard_url=dashboard_url if cfg.dashboard.enabled else None,
        best_numbers=progress.best_numbers,
        best_label=None if progress.best_value is None or comparing else rating_label(widgets)(progress.best_value),
        best_colour=None if best_params is None else best_colour(generator, best_params), compared=comparing,
    )
    log_summary(summary)
    write_job_result(study, rater)
    if cfg.results and HydraConfig.initialized():
        _write_results(study, artifact_store, Path(HydraConfig.get().runtime.output_dir))
    return summary


def _write_results(study: optuna.Study, artifact_store: Any, folder: Path) -> None:
    try:
        paths = write_results(study, artifact_store, folder, plotlyjs_folder=shared_plotlyjs_folder(folder))
    except HitlError as exc:  # no ratings yet: nothing to show
        _log.info("no contact sheet: %s", exc)
        return
    _log.info("contact sheet and plots: %s", ", ".join(str(p) for p in paths))


def _probe(sampler: optuna.samplers.BaseSampler, generator: Any) -> None:
    """Suggest once on a throw-away study, so bad sampler or space settings fail before any write.

    A copy of the sampler is used: the real one's random state stays as seeded.
    """
    study = optuna.create_study(sampler=copy.deepcopy(sampler))
    try:
        generator.suggest(study.ask())
    except Exception as exc:  # third-party samplers validate their arguments only here
        raise HitlError(
            f"sampler: suggesting parameters failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "check the sampler.* and generator.space settings"
        ) from exc


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM finish the step in hand; a second Ctrl-C stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        _log.info("stopping after the step in hand (Ctrl-C again to stop at once)")
        stop.set()
        request_sweep_stop()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
