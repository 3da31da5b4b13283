"""Results a person can look at: a contact sheet of the rated outputs and Optuna's plots.

A study's ratings are numbers in a database; what a person wants after a session is to *see*
them. :func:`write_results` puts three files into a folder, named after the study:

- ``<study>-contact-sheet.png``: every rated trial's output in trial order, each labelled with
  its trial number and rating (a choice widget's label, e.g. ``Good``), the best ones framed;
- ``<study>-history.html``: Optuna's optimization history;
- ``<study>-parallel.html``: Optuna's parallel-coordinate plot (from 2 ratings on).

The HTML files embed plotly.js, so they open without internet. For any study in any storage::

    python -m hitl.results --storage sqlite:///hitl.db --study sunset-slider --artifacts artifacts

(``--storage`` also takes a PostgreSQL URL or a journal file ending in ``.log``; ``--out`` the
folder, ``results`` by default.) Problems end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
import logging
from pathlib import Path
import re
import sys
from typing import Any

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from hitl._errors import HitlError
from hitl._errors import mask_secrets
from hitl._errors import mask_url
from hitl._errors import one_line as _one_line
from hitl._sheet import BEST_COLOUR
from hitl._sheet import BORDER
from hitl._sheet import contact_sheet
from hitl._sheet import GAP
from hitl._sheet import rated_trials
from hitl._sheet import SheetLayout


__all__ = [
    "BEST_COLOUR",
    "BORDER",
    "GAP",
    "SheetLayout",
    "contact_sheet",
    "main",
    "result_names",
    "write_plots",
    "write_results",
]

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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hitl.results``: write a study's results from any storage.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``0``; every problem a user can fix ends with one line on stderr and exit status 2.
    """
    parser = argparse.ArgumentParser(
        prog="python -m hitl.results",
        description="Write a study's contact sheet (PNG) and Optuna plots (standalone HTML).",
        epilog="Example: python -m hitl.results --storage sqlite:///hitl.db --study sunset-slider "
               "--artifacts artifacts",
    )
    parser.add_argument("--storage", required=True,
                        help="an RDB URL (sqlite:///hitl.db, postgresql+psycopg2://user@host/db) "
                             "or a journal file path ending in .log")
    parser.add_argument("--study", required=True, help="the study name")
    parser.add_argument("--artifacts", required=True, type=Path,
                        help="the artifact folder (optuna-dashboard's --artifact-dir)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: ./results)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        paths = _results_command(args.storage, args.study, args.artifacts, args.out)
    except HitlError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def _results_command(storage_spec: str, study_name: str, artifacts: Path, out: Path) -> list[Path]:
    from optuna.artifacts import FileSystemArtifactStore

    if not artifacts.is_dir():
        raise HitlError(f"--artifacts {artifacts}: no such folder; give the run's artifact folder")
    storage = _open_storage(storage_spec)
    where = mask_url(storage_spec)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in storage.get_all_studies()]
        held = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "") if names else "none"
        raise HitlError(f"--study {study_name!r}: no such study in {where} (studies there: {held})") from None
    return write_results(study, FileSystemArtifactStore(artifacts), out)


def _open_storage(spec: str) -> BaseStorage:
    """An existing storage, read as it is: no database file or table is created."""
    from optuna.storages import JournalStorage
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalFileBackend

    where = mask_url(spec)
    if "://" not in spec:
        if not spec.endswith(".log"):
            raise HitlError(f"--storage {where}: give an RDB URL (sqlite:///hitl.db, postgresql+psycopg2://...) "
                            "or a journal file path ending in .log")
        if not Path(spec).is_file():
            raise HitlError(f"--storage {where}: no such journal file")
        try:
            return JournalStorage(JournalFileBackend(spec))
        except Exception as exc:  # a damaged journal may raise anything
            raise HitlError(f"--storage {where}: cannot read it ({_one_line(exc)})") from None
    if spec.startswith("sqlite:///"):
        file = spec.removeprefix("sqlite:///").split("?", 1)[0]
        if file and file != ":memory:" and not Path(file).is_file():
            raise HitlError(f"--storage {where}: no such database file {file}")
    engine_kwargs: dict[str, Any] = {}
    if spec.startswith(("postgresql", "postgres")):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        return RDBStorage(spec, engine_kwargs=engine_kwargs, skip_table_creation=True)
    except Exception as exc:  # the database driver's errors differ by backend
        raise HitlError(f"--storage {where}: cannot open it ({_one_line(exc)}); "
                        "check the URL and that the database is up") from None


def _objective(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: t.values[i]


def _write_html(figure: Any, path: Path) -> Path:
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_") or "study"


if __name__ == "__main__":
    sys.exit(main())
