"""A render bounded by the run's ``timeout``: the generator works in a thread of its own, waited for
until the deadline.

Python cannot stop a thread, and a render may be in C code (a model on a GPU, an encoder) that
no exception reaches, so a render still going at the deadline is abandoned, not stopped: it runs
on in its daemon thread until it returns or the process exits, and whatever it makes is thrown
away (its temporary folder included). The trial it was for is failed by the caller, so nothing
half-made is left in the study. A subprocess the render started is not waited for either; it
ends when it ends.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from collections.abc import Mapping
import contextlib
from pathlib import Path
import shutil
import tempfile
import threading
import time
from typing import Any

from hitl.generators import Generator


__all__ = ["RenderTimedOut", "rendered"]


class RenderTimedOut(Exception):
    """The deadline passed while the render was still running; it has been abandoned."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the render was still running after {seconds:.1f} s")
        self.seconds = seconds


_LEFT_BEHIND: set[Path] = set()  # folders of abandoned renders, removed at exit if still there
_LEFT_LOCK = threading.Lock()


@atexit.register
def _remove_left_behind() -> None:
    with _LEFT_LOCK:
        for folder in _LEFT_BEHIND:
            shutil.rmtree(folder, ignore_errors=True)


class _Render:
    def __init__(self, generator: Generator, params: Mapping[str, Any]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hitl-"))
        self.path: Path | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self._generator, self._params = generator, params
        self._thread = threading.Thread(target=self._run, name="hitl-render", daemon=True)

    def _run(self) -> None:
        try:
            self.path = Path(self._generator.render(self._params, self.folder))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which decides
            self.error = exc
        finally:
            with self._lock:
                self._done.set()
                abandoned = self._abandoned
            if abandoned:  # nobody will read it: clean up as the waiting thread would have
                shutil.rmtree(self.folder, ignore_errors=True)
                with _LEFT_LOCK:
                    _LEFT_BEHIND.discard(self.folder)

    def wait(self, deadline: float | None) -> Path:
        started = time.monotonic()
        self._thread.start()
        while not self._done.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
            with self._lock:
                if self._done.is_set():
                    break
                self._abandoned = True
                with _LEFT_LOCK:
                    _LEFT_BEHIND.add(self.folder)
            raise RenderTimedOut(time.monotonic() - started)
        if self.error is not None:
            raise self.error
        assert self.path is not None
        return self.path


@contextlib.contextmanager
def rendered(generator: Generator, params: Mapping[str, Any], deadline: float | None = None) -> Iterator[Path]:
    """Render ``params`` into a temporary folder and yield the output's path; the folder goes afterwards.

    Args:
        generator: Renders the output.
        params: The trial's parameters.
        deadline: ``time.monotonic()`` by which the render must be done, or ``None``.

    Raises:
        RenderTimedOut: The deadline passed first; the render was abandoned (see the module's text).
    """
    render = _Render(generator, params)
    abandoned = False
    try:
        try:
            path = render.wait(deadline)
        except RenderTimedOut:
            abandoned = True  # the render's thread owns the folder now
            raise
        yield path
    finally:
        if not abandoned:
            shutil.rmtree(render.folder, ignore_errors=True)
