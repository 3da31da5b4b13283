"""Writing a study's results into a folder: the contact sheet and Optuna's plots."""

from __future__ import annotations

from collections.abc import Callable
import logging
import os
from pathlib import Path
import re
import uuid
from typing import Any

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.trial import FrozenTrial

from hitl.queue._compare import is_preferential
from hitl.results._ranked import ranked_contact_sheet
from hitl.results._sheet import contact_sheet
from hitl.results._sheet import rated_trials


__all__ = ["result_names", "shared_plotlyjs_folder", "write_plots", "write_results"]

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


def write_plots(study: optuna.Study, folder: Path, *, plotlyjs_folder: Path | None = None) -> list[Path]:
    """Write Optuna's optimization history and parallel-coordinate plots as HTML that opens offline.

    plotly.js (4.6 MB) is written once, as ``plotly-<version>.min.js``, into ``plotlyjs_folder``
    (``folder`` by default), and every plot loads it from there by relative path: a run's plots
    take tens of kB, not 4.6 MB each. Move a plot with that file. With several objectives there is one
    file of each per objective (``-history-0.html``, ``-history-1.html``...). The
    parallel-coordinate plot is skipped, with a log line saying why, below 2 rated trials.

    Args:
        study: The study.
        folder: Where to write; created if missing.
        plotlyjs_folder: Where the plots find plotly.js (a run's output folders share
            ``outputs/``'s); ``folder`` by default.

    Returns:
        The plot files written (not plotly.js).

    Raises:
        HitlError: The study has no rated trial.
    """
    from optuna.visualization import plot_optimization_history
    from optuna.visualization import plot_parallel_coordinate

    rated = rated_trials(study)
    names = result_names(study.study_name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bundle = _plotlyjs(Path(plotlyjs_folder) if plotlyjs_folder is not None else folder)
    metric_names = study.metric_names or [f"Objective {i}" for i in range(len(study.directions))]
    single = len(study.directions) == 1
    written: list[Path] = []
    for i, metric in enumerate(metric_names):
        target: Callable[[FrozenTrial], float] | None = None if single else _objective(i)
        suffix = "" if single else f"-{i}"
        history = plot_optimization_history(study, target=target, target_name=metric)
        history.update_layout(title=f"{study.study_name}: optimization history ({metric})")
        written.append(_write_html(history, folder / names["history"].replace(".html", f"{suffix}.html"), bundle))
        if len(rated) < 2:
            _log.info("parallel-coordinate plot skipped: it needs at least 2 rated trials, the study has %d",
                      len(rated))
            continue
        parallel = plot_parallel_coordinate(study, target=target, target_name=metric)
        parallel.update_layout(title=f"{study.study_name}: parallel coordinates ({metric})")
        written.append(_write_html(parallel, folder / names["parallel"].replace(".html", f"{suffix}.html"), bundle))
    return written


def write_results(study: optuna.Study, artifact_store: ArtifactStore, folder: Path, *,
                  plotlyjs_folder: Path | None = None) -> list[Path]:
    """Write the contact sheet and the plots of ``study`` into ``folder``.

    File names follow :func:`result_names`. Nothing is written when the study has no rating.
    A comparison study (``mode=preferential``) gets its contact sheet only, ordered by
    estimated preference (:func:`~hitl.results._ranked.ranked_contact_sheet`).

    Args:
        study: The study.
        artifact_store: The store the outputs were uploaded to.
        folder: Where to write; created if missing.
        plotlyjs_folder: Where the plots find plotly.js; see :func:`write_plots`.

    Returns:
        The contact sheet, then the plot files.

    Raises:
        HitlError: The study has no rated trial.
    """
    if is_preferential(study):  # its values are all 0: the choices rank the outputs, not Optuna's plots
        return [ranked_contact_sheet(study, artifact_store, Path(folder) / result_names(study.study_name)["contact_sheet"])]
    rated_trials(study)  # fail before making the folder
    folder = Path(folder)
    sheet = contact_sheet(study, artifact_store, folder / result_names(study.study_name)["contact_sheet"])
    return [sheet, *write_plots(study, folder, plotlyjs_folder=plotlyjs_folder)]


def _objective(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: t.values[i]


def shared_plotlyjs_folder(folder: Path) -> Path:
    """Where a run's plots share plotly.js: the top folder of ``folder`` under the working
    directory (``outputs/`` for ``outputs/<date>/<time>/``, ``multirun/`` for a sweep's jobs),
    or ``folder`` itself when it lies elsewhere."""
    folder, here = Path(folder).resolve(), Path.cwd().resolve()
    if folder == here or not folder.is_relative_to(here):
        return folder
    return here / folder.relative_to(here).parts[0]


def _plotlyjs(folder: Path) -> Path:
    """``plotly-<version>.min.js`` in ``folder``, written once (atomically: sweep jobs run at once)."""
    import plotly
    from plotly.offline import get_plotlyjs

    bundle = folder / f"plotly-{plotly.__version__}.min.js"
    if not bundle.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{bundle.name}.{uuid.uuid4().hex}"
        part.write_text(get_plotlyjs(), encoding="utf-8")
        os.replace(part, bundle)
    return bundle


def _write_html(figure: Any, path: Path, bundle: Path) -> Path:
    src = Path(os.path.relpath(bundle, path.parent)).as_posix()  # relative: the folder can move whole
    figure.write_html(str(path), include_plotlyjs=src, full_html=True)
    return path


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_") or "study"
