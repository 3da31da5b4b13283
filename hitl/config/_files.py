"""Checks of the files a run writes to, before anything is written: SQLite URLs and full disks."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
import sqlite3
import urllib.parse

import sqlalchemy.engine

from hitl._errors import HitlError
from hitl._errors import mask_url


__all__ = ["check_sqlite_url", "disk_full"]

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
