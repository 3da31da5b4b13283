"""Debian's chromium driven by Playwright, and hitl.run on a thread for it to look at.

Shared by tests/server/test_browser.py and docs/screenshot.py.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import os
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING
import urllib.error
import urllib.request

from omegaconf import DictConfig
import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from conftest import waiting_trials
import hitl


if TYPE_CHECKING:
    from playwright.sync_api import Browser


CHROMIUM = os.environ.get("HITL_CHROMIUM", "/usr/bin/chromium")
# `playwright install` downloads a browser build, which fails where only package
# registries are reachable, so the system chromium is used. No network side channels
# (updates, QUIC, sync) and no GPU: the same page renders the same way everywhere.
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container has no user namespace for chromium's sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why a browser cannot be driven here, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[test]'"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no chromium at {CHROMIUM}: apt-get install chromium (or set HITL_CHROMIUM)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless chromium, closed (with its processes) on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class RunningHitl:
    """``hitl.run(cfg)`` on a thread, with its embedded dashboard; a context manager.

    On entry it waits until the dashboard answers. On exit it rates the trials still
    waiting through the storage, as another rater would, until the run reaches
    ``n_trials`` and its thread ends, so no server outlives the block; an exception
    the run raised is raised here.

    Args:
        cfg: A composed config with ``dashboard.enabled=true``, an RDB ``storage.url``
            and ``n_trials`` set (else the run would never end).
        timeout: Seconds to wait for the dashboard to answer and for the run to end.
    """

    def __init__(self, cfg: DictConfig, timeout: float = 30.0) -> None:
        if not cfg.dashboard.enabled or cfg.n_trials is None or "url" not in cfg.storage:
            raise ValueError("RunningHitl needs dashboard.enabled=true, n_trials and an RDB storage.url")
        self.cfg, self.timeout = cfg, timeout
        # Give a free port (conftest.free_port): the dashboard moves on to the next one if it
        # is taken, and only the log would tell.
        self.url = f"http://{cfg.dashboard.host}:{cfg.dashboard.port}"
        self.summary: hitl.Summary | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hitl-run", daemon=True)

    def _run(self) -> None:
        try:
            self.summary = hitl.run(self.cfg)
        except BaseException as exc:  # handed to the test's thread on exit
            self._error = exc

    def __enter__(self) -> RunningHitl:
        self._thread.start()
        try:
            self._wait_for_dashboard()
            # Only now: the run has made the tables, and two engines creating them at once collide.
            self.storage = optuna.storages.RDBStorage(self.cfg.storage.url)
            self.study_id = self.storage.get_study_id_from_name(self.cfg.study_name)
        except BaseException:
            self._thread.join(self.timeout)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.finish()
        self.storage.engine.dispose()
        if self._thread.is_alive():
            raise AssertionError(f"hitl.run is still running {self.timeout:g} s after its last trial was rated")
        if self._error is not None and kind is None:
            raise self._error

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        """Wait (up to ``timeout``) for the run to end by itself."""
        self._thread.join(self.timeout)

    def waiting(self) -> list[FrozenTrial]:
        return waiting_trials(self.storage, self.study_id)

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if not self._thread.is_alive():
                raise AssertionError(f"hitl.run ended ({self._error!r}) while waiting until {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not {what} after {self.timeout:g} s")
            time.sleep(0.05)

    def finish(self, value: float = 0.0) -> None:
        """Rate with ``value`` what waits, but no more than ``n_trials`` wants, until the run stops."""
        deadline = time.monotonic() + self.timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            wanted = self.cfg.n_trials - self.storage.get_n_trials(self.study_id, state=TrialState.COMPLETE)
            for t in self.waiting()[:max(wanted, 0)]:
                # a rating the browser sent just before a failing test's cleanup may land first
                with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                    self.storage.set_trial_state_values(t._trial_id, TrialState.COMPLETE, [value])
            self._thread.join(0.05)

    def _wait_for_dashboard(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/meta", timeout=2):
                    return
            except urllib.error.HTTPError:  # an answer all the same (401 behind a token)
                return
            except OSError:
                pass
            if not self._thread.is_alive():
                raise self._error or AssertionError("hitl.run ended before its dashboard answered")
            if time.monotonic() > deadline:
                raise AssertionError(f"the dashboard at {self.url} did not answer within {self.timeout:g} s")
            time.sleep(0.05)
