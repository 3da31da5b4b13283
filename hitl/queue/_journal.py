"""The journal file's write lock, which a killed process never leaves behind.

optuna's ``JournalFileBackend`` locks each append with a symlink beside the file. A process killed
while it holds that symlink (SIGKILL, a crash) leaves it there, and every other process waits
out optuna's grace period (30 s, more while others keep appending) before breaking it: ratings
time out meanwhile. hitl's processes take an OS file lock first (released by the OS when its
holder dies), and then optuna's symlink, so a plain ``optuna-dashboard`` on the same file stays
in step; a symlink still there while hitl's own lock is held can only be a plain optuna
process's (held for milliseconds) or a dead process's, so one older than ``stale_after`` is broken.

An append that fails part-way (a full disk) is cut off again: optuna joins the next append to a
partial line, and every later read of the journal fails on it.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import time
from typing import Any
import uuid

from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import BaseJournalFileLock
from optuna.storages.journal._file import get_lock_file
from optuna.storages.journal._file import JournalFileSymlinkLock


__all__ = ["JournalWriteLock", "harden_journal"]

WRITE_LOCK_SUFFIX = ".hitl-write-lock"


class JournalWriteLock(BaseJournalFileLock):
    """An OS file lock, then optuna's symlink lock, around each append to the journal file.

    Args:
        file_path: The journal file.
        stale_after: Seconds after which optuna's symlink, seen while this lock is held, is broken.
    """

    def __init__(self, file_path: str, stale_after: float = 2.0) -> None:
        self._path = os.path.abspath(file_path) + WRITE_LOCK_SUFFIX
        self._symlink = JournalFileSymlinkLock(file_path, grace_period=None)
        self._stale_after = stale_after
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)  # appends take milliseconds; a dead holder's lock is gone
        self._fd = fd
        link = self._symlink._lock_file
        seen = time.monotonic()
        while True:
            try:
                os.symlink(self._symlink._lock_target_file, link)
                return True
            except FileExistsError:
                if time.monotonic() - seen > self._stale_after:
                    _break(link)
                    seen = time.monotonic()
                time.sleep(0.005)
            except BaseException:
                self._unlock()
                raise

    def release(self) -> None:
        try:
            self._symlink.release()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _break(link: str) -> None:
    # renamed first, as optuna releases it: another breaker's rename fails instead of removing a new lock
    moved = f"{link}.{uuid.uuid4().hex}.stale"
    try:
        os.rename(link, moved)
        os.unlink(moved)
    except FileNotFoundError:
        pass


def harden_journal(storage: BaseStorage) -> None:
    """Give a journal storage on a file with optuna's default lock the :class:`JournalWriteLock`."""
    backend = getattr(storage, "_backend", None) if isinstance(storage, JournalStorage) else None
    if isinstance(backend, JournalFileBackend) and type(backend._lock) is JournalFileSymlinkLock:
        backend._lock = JournalWriteLock(backend._file_path)
    if isinstance(backend, JournalFileBackend):
        backend.append_logs = functools.partial(_append_whole, backend)  # type: ignore[method-assign]


def _append_whole(backend: JournalFileBackend, logs: list[dict[str, Any]]) -> None:
    """``JournalFileBackend.append_logs``, leaving the file as it was when a write fails."""
    data = ("\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n").encode("utf-8")
    with get_lock_file(backend._lock):
        fd = os.open(backend._file_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            start = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:  # a write may take part of it and fail only on the rest
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
