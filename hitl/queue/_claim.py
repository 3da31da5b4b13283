"""A study-wide lock that every worker takes to count the queue and claim a new trial.

Several generator processes share one study; without it each would fill its own ``batch``.
The lock comes from where the study lives: PostgreSQL's advisory lock (released by the
server if the worker dies), an OS file lock beside a SQLite database or journal file,
a thread lock for in-memory storage.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import fcntl
import hashlib
from pathlib import Path
import tempfile
import threading

from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
import sqlalchemy


__all__ = ["study_lock"]

_LOCK_CLASS = 0x4849  # "HI": our namespace in PostgreSQL's two-key advisory locks
_THREAD_LOCKS: dict[int, threading.Lock] = {}


def _backend(storage: BaseStorage) -> BaseStorage:
    return getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in a cache


def study_lock(storage: BaseStorage, study_id: int) -> contextlib.AbstractContextManager[None]:
    """A context manager holding the study-wide claim lock."""
    backend = _backend(storage)
    if isinstance(backend, RDBStorage):
        url = sqlalchemy.engine.make_url(backend.url)
        if url.get_backend_name() == "postgresql":
            return _advisory_lock(backend.engine, study_id)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return _file_lock(url.database, study_id)
    if isinstance(backend, JournalStorage):
        path = getattr(backend._backend, "_file_path", None)
        if path is not None:
            return _file_lock(path, study_id)
    # in-memory (and any other) storage is reached from this process only
    return _THREAD_LOCKS.setdefault(id(backend) ^ study_id, threading.Lock())


@contextlib.contextmanager
def _advisory_lock(engine: sqlalchemy.engine.Engine, study_id: int) -> Iterator[None]:
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:c, :s)"), {"c": _LOCK_CLASS, "s": study_id})
        try:
            yield
        finally:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:c, :s)"), {"c": _LOCK_CLASS, "s": study_id})
            conn.commit()


@contextlib.contextmanager
def _file_lock(database: str, study_id: int) -> Iterator[None]:
    # SQLite and journal files are local to one machine: the lock file lives in its temp folder,
    # named after the database's absolute path, so the user's folder stays clean.
    key = hashlib.sha1(f"{Path(database).resolve()}:{study_id}".encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"hitl-{key}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # the OS releases it if the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
