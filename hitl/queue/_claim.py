"""A study-wide lock that every worker takes to count the queue and claim a new trial.

Several generator processes share one study; without it each would fill its own ``batch``.
The lock comes from where the study lives: PostgreSQL's advisory lock (released by the
server if the worker dies), an OS file lock beside a SQLite database or journal file (released
by the OS if the worker dies), a thread lock for in-memory storage.

A worker waiting for the lock says so in the log every few seconds, and gives up at its
``deadline`` or when ``stop`` is set (:class:`LockNotTaken`), so a lock held by a stuck process
never stalls a run silently or past its ``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import fcntl
import logging
import os
from pathlib import Path
import threading
import time

from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
import sqlalchemy

from hitl._errors import HitlError


__all__ = ["LOCK_SUFFIX", "LockNotTaken", "lock_path", "study_lock"]

_log = logging.getLogger("hitl")
_LOCK_CLASS = 0x4849  # "HI": our namespace in PostgreSQL's two-key advisory locks
_THREAD_LOCKS: dict[int, threading.Lock] = {}
LOCK_SUFFIX = ".hitl-lock"  # beside the database or journal file: one lock file per file, never more
_POLL = 0.02  # seconds between tries while another worker holds the lock
_FIRST_NOTE, _NOTE_EVERY = 2.0, 10.0  # when a wait is logged, and how often again


class LockNotTaken(Exception):
    """The study lock was not taken: the run's deadline passed or it was told to stop meanwhile."""


def lock_path(storage: BaseStorage) -> Path | None:
    """The lock file for ``storage``'s SQLite database or journal file, or ``None`` if it has none."""
    if isinstance(storage, JournalStorage):  # its _backend is the log file, not an RDB storage
        path = getattr(storage._backend, "_file_path", None)
        return None if path is None else Path(os.path.abspath(path) + LOCK_SUFFIX)
    backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in a cache
    if isinstance(backend, RDBStorage):
        url = sqlalchemy.engine.make_url(backend.url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(os.path.abspath(url.database) + LOCK_SUFFIX)
    return None


def study_lock(
    storage: BaseStorage, study_id: int, *, deadline: float | None = None,
    stop: threading.Event | None = None,
) -> contextlib.AbstractContextManager[None]:
    """A context manager holding the study-wide claim lock.

    Args:
        storage: The study's storage.
        study_id: The study.
        deadline: ``time.monotonic()`` after which waiting gives up with :class:`LockNotTaken`.
        stop: Set to give up waiting with :class:`LockNotTaken`.
    """
    give_up = _giving_up(deadline, stop)
    path = lock_path(storage)
    if path is not None:
        return _file_lock(path, give_up)
    backend = getattr(storage, "_backend", storage)
    if isinstance(backend, RDBStorage) and sqlalchemy.engine.make_url(backend.url).get_backend_name() == "postgresql":
        return _advisory_lock(backend.engine, study_id, give_up)
    # in-memory (and any other) storage is reached from this process only
    return _thread_lock(_THREAD_LOCKS.setdefault(id(backend) ^ study_id, threading.Lock()), give_up)


def _giving_up(deadline: float | None, stop: threading.Event | None) -> Callable[[], bool]:
    return lambda: (stop is not None and stop.is_set()) or (deadline is not None and time.monotonic() >= deadline)


def _wait(try_once: Callable[[], bool], give_up: Callable[[], bool], what: str) -> None:
    """Call ``try_once`` until it takes the lock, logging a long wait; :class:`LockNotTaken` on giving up."""
    started = time.monotonic()
    note_at = started + _FIRST_NOTE
    while not try_once():
        if give_up():
            raise LockNotTaken(what)
        now = time.monotonic()
        if now >= note_at:
            _log.warning("waiting %.0f s for the study lock (%s), held by another worker or process", now - started, what)
            note_at = now + _NOTE_EVERY
        time.sleep(_POLL)


@contextlib.contextmanager
def _thread_lock(lock: threading.Lock, give_up: Callable[[], bool]) -> Iterator[None]:
    _wait(lambda: lock.acquire(timeout=0.2), give_up, "in this process")
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _advisory_lock(engine: sqlalchemy.engine.Engine, study_id: int, give_up: Callable[[], bool]) -> Iterator[None]:
    keys = {"c": _LOCK_CLASS, "s": study_id}
    with engine.connect() as conn:
        def take() -> bool:
            taken = conn.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:c, :s)"), keys).scalar()
            conn.commit()  # no transaction left open while waiting
            return bool(taken)

        _wait(take, give_up, f"PostgreSQL advisory lock ({_LOCK_CLASS}, {study_id})")
        try:
            yield
        finally:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:c, :s)"), keys)
            conn.commit()


@contextlib.contextmanager
def _file_lock(path: Path, give_up: Callable[[], bool]) -> Iterator[None]:
    # Beside the file it protects, so every worker on that file finds it whatever its $TMPDIR;
    # O_NOFOLLOW: a planted symlink is refused, never followed to a file it would create or truncate.
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise HitlError(f"storage: cannot open the lock file {path} ({exc.strerror}); "
                        "it must be a plain file in a folder you can write (remove it if it is a link)") from None
    try:
        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the OS releases it if the process dies
            except BlockingIOError:
                return False
            return True

        _wait(take, give_up, str(path))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
