"""``python -m hitl.results``: write a study's results from any storage."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import logging
from pathlib import Path
import sys
from typing import Any

import optuna
from optuna.storages import BaseStorage

from hitl._errors import HitlError
from hitl._errors import mask_secrets
from hitl._errors import mask_url
from hitl._errors import one_line as _one_line
from hitl.results._write import write_results


__all__ = ["main"]


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
        epilog="example:\n  python -m hitl.results --storage sqlite:///hitl.db --study sunset-slider --artifacts artifacts\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the example stays one line to copy
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
