"""The sweep's shared dashboard keeps a run's settings: its tokens guard it as a single run's would."""

from __future__ import annotations

from collections.abc import Callable
import os
import urllib.error
import urllib.request

from omegaconf import DictConfig
import pytest

from hitl.sweeps import SweepDashboard
from hitl.sweeps._jobs import DASHBOARD_ENV
from tests.conftest import free_port


def _status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_sweeps_dashboard_asks_for_the_tokens_a_run_would(make_cfg: Callable[..., DictConfig],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="hitl")
    port = free_port()
    cfg = make_cfg("dashboard.enabled=true", f"dashboard.port={port}", "dashboard.token=rater-secret-1",
                   "dashboard.admin_token=admin-secret-1", "dashboard.server=waitress")
    callback = SweepDashboard()
    callback.on_multirun_start(cfg)
    try:
        url = os.environ[DASHBOARD_ENV]
        assert url == f"http://127.0.0.1:{port}"
        assert _status(f"{url}/dashboard") == 401
        assert _status(f"{url}/rate") == 401
        assert _status(f"{url}/rate", "rater-secret-1") == 200
        assert _status(f"{url}/dashboard", "rater-secret-1") == 403  # raters rate; only the admin inspects
        assert _status(f"{url}/dashboard", "admin-secret-1") == 200
    finally:
        callback.on_multirun_end(cfg)
    assert DASHBOARD_ENV not in os.environ
    assert f"rate this sweep's studies at {url}/dashboard?token=admin-secret-1" in caplog.text
    assert f"raters pick a study to rate at {url}/rate?token=rater-secret-1" in caplog.text
