"""Writing a study's results into a folder: the contact sheet and Optuna's plots."""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path
import re
from typing import Any

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial

from hitl.results._sheet import contact_sheet
from hitl.results._sheet import rated_trials


__all__ = ["result_names", "write_plots", "write_results"]

_log = logging.getLogger("hitl")


def result_names(study_name: str) -> dict[str, str]:
    """The file names :func:`write_results` uses for a study (single-objective plots).

    Args:
        study_name: The study's name; anything but letters, digits, ``.``, ``_`` and ``-``
            becomes ``-``.

    Returns:
        ``{"contact_sheet": ..., "history": ..., "parallel": ...}``.
    """
    stem = _safe_name(study_name)
    return {
        "contact_sheet": f"{stem}-contact-sheet.png",
        "history": f"{stem}-history.html",
        "parallel": f"{stem}-parallel.html",
    }


def write_plots(study: optuna.Study, folder: Path) -> list[Path]:
    """Write Optuna's optimization history and parallel-coordinate plots as standalone HTML.

    plotly.js is embedded, so the files open offline. With several objectives there is one
    file of each per objective (``-history-0.html``, ``-history-1.html``...). The
    parallel-coordinate plot is skipped, with a log line saying why, below 2 rated trials.

    Args:
        study: The study.
        folder: Where to write; created if missing.

    Returns:
        The files written.

    Raises:
        HitlError: The study has no rated trial.
    """
    from optuna.visualization import plot_optimization_history
    from optuna.visualization import plot_parallel_coordinate

    rated = rated_trials(study)
    names = result_names(study.study_name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metric_names = study.metric_names or [f"Objective {i}" for i in range(len(study.directions))]
    single = len(study.directions) == 1
    written: list[Path] = []
    for i, metric in enumerate(metric_names):
        target: Callable[[FrozenTrial], float] | None = None if single else _objective(i)
        suffix = "" if single else f"-{i}"
        history = plot_optimization_history(study, target=target, target_name=metric)
        history.update_layout(title=f"{study.study_name}: optimization history ({metric})")
        written.append(_write_html(history, folder / names["history"].replace(".html", f"{suffix}.html")))
        if len(rated) < 2:
            _log.info("parallel-coordinate plot skipped: it needs at least 2 rated trials, the study has %d",
                      len(rated))
            continue
        parallel = plot_parallel_coordinate(study, target=target, target_name=metric)
        parallel.update_layout(title=f"{study.study_name}: parallel coordinates ({metric})")
        written.append(_write_html(parallel, folder / names["parallel"].replace(".html", f"{suffix}.html")))
    return written


def write_results(study: optuna.Study, artifact_store: ArtifactStore, folder: Path) -> list[Path]:
    """Write the contact sheet and the plots of ``study`` into ``folder``.

    File names follow :func:`result_names`. Nothing is written when the study has no rating.

    Args:
        study: The study.
        artifact_store: The store the outputs were uploaded to.
        folder: Where to write; created if missing.

    Returns:
        The contact sheet, then the plot files.

    Raises:
        HitlError: The study has no rated trial.
    """
    rated_trials(study)  # fail before making the folder
    folder = Path(folder)
    sheet = contact_sheet(study, artifact_store, folder / result_names(study.study_name)["contact_sheet"])
    return [sheet, *write_plots(study, folder)]


def _objective(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: t.values[i]


def _write_html(figure: Any, path: Path) -> Path:
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_") or "study"
