"""A background thread that does one thing every few seconds while a block of code runs."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import threading


__all__ = ["every"]


@contextlib.contextmanager
def every(interval: float, action: Callable[[], bool | None], *, name: str) -> Iterator[None]:
    """Call ``action`` every ``interval`` seconds while the body runs; it ends early once ``action`` returns True.

    The thread is joined when the body ends, so nothing outlives it.
    """
    done = threading.Event()

    def run() -> None:
        while not done.wait(interval):
            if action():
                return

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
