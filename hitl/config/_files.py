"""Checks of the files a run writes to, before anything is written: SQLite URLs and full disks."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
import shutil
import sqlite3
import urllib.parse

from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
import sqlalchemy.engine

from hitl._errors import HitlError
from hitl._errors import mask_url
from hitl._errors import one_line


__all__ = ["check_sqlite_url", "disk_full", "full_disk", "full_storage_message"]

_OPTUNA_TABLES = {"studies", "trials"}
_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")


def check_sqlite_url(url: str) -> None:
    """Refuse a SQLite URL optuna would misuse: in memory, a file that is not SQLite, another program's.

    optuna adds its tables to any SQLite file it is given, so a file of another program is
    changed; it is refused here, with a corrupt one, before any write. An in-memory database
    lives in one connection: the dashboard, on a connection of its own, would find no tables.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except Exception:  # noqa: BLE001 - optuna's own error names it later
        return
    if parsed.get_backend_name() != "sqlite":
        return
    shown = f"storage.url={mask_url(url)}"
    if parsed.database in (None, "", ":memory:") or str(parsed.database).startswith("file::memory:"):
        raise HitlError(f"{shown}: an in-memory SQLite database lives in one connection, so the dashboard "
                        "would see none of it; use storage=memory, or a file such as sqlite:///hitl.db")
    path = Path(parsed.database)
    from hitl.queue._claim import LOCK_SUFFIX  # noqa: PLC0415 - the queue imports the config's users

    lock = Path(os.path.abspath(path) + LOCK_SUFFIX)
    if lock.is_symlink():
        raise HitlError(f"{shown}: its lock file {lock} is a symbolic link, which hitl never follows; remove it")
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise HitlError(f"{shown}: {path} is not a readable SQLite database ({exc}); point storage.url at "
                        "another file, or move this one away") from None
    if tables and not _OPTUNA_TABLES <= tables:
        others = ", ".join(sorted(tables)[:4])
        raise HitlError(f"{shown}: {path} holds another program's tables ({others}), which optuna would add to; "
                        "point storage.url at a file of its own, e.g. sqlite:///hitl.db")


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the disk is full."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(exc).lower() for words in _FULL):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def full_storage_message(storage: BaseStorage | str | None, exc: BaseException) -> str:
    """One line for a storage whose disk is full: which disk, and where to move the storage.

    Args:
        storage: The storage, or its URL when it is not built yet.
        exc: What the storage raised.
    """
    storage = getattr(storage, "_backend", storage) if not isinstance(storage, JournalStorage) else storage
    reason = one_line(exc)
    if isinstance(storage, JournalStorage):
        path = getattr(storage._backend, "_file_path", None)
        if path is not None:
            return (f"storage.log_storage.file_path={path}: {full_disk(path)} is full ({reason}); free some "
                    "space there, or set storage.log_storage.file_path to a file on another disk")
    url = storage.url if isinstance(storage, RDBStorage) else storage
    if not isinstance(url, str):
        return f"storage: its disk is full ({reason}); free some space there, or put the storage on another disk"
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except Exception:  # noqa: BLE001 - a URL optuna took but SQLAlchemy would not parse: say less
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database:
        return (f"storage.url={mask_url(url)}: {full_disk(parsed.database)} is full ({reason}); free some space "
                "there, or point storage.url at a file on another disk")
    return (f"storage.url={mask_url(url)}: the database server's disk is full ({reason}); free some space on "
            "its data directory, or point storage.url at another server")


def full_disk(path: str | Path) -> str:
    """``the disk holding <path> (<mount point>, <free> free)``: which disk to clear, for a message."""
    here = Path(os.path.abspath(path))
    existing = next((p for p in (here, *here.parents) if p.exists()), Path("/"))
    mount = next((p for p in (existing, *existing.parents) if os.path.ismount(p)), Path("/"))
    try:
        free = _size(shutil.disk_usage(existing).free)
    except OSError:
        free = "unknown space"
    return f"the disk holding {here} (mounted at {mount}, {free} free)"


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
