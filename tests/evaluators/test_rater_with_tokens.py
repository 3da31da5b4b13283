"""A simulated rater watched in a dashboard with tokens on: it rates (or chooses) through the
served dashboard with the admin token, as a script would."""

from __future__ import annotations

import pytest

import hitl
from tests.conftest import free_port


@pytest.mark.parametrize("mode", ["rating", "preferential"])
def test_simulated_rater_rates_through_a_dashboard_with_tokens(make_cfg, mode: str) -> None:
    cfg = make_cfg(f"mode={mode}", "evaluator=simulated", "dashboard.enabled=true", f"dashboard.port={free_port()}",
                   "dashboard.token=auto", "batch=3", "n_trials=4", "sampler=random", "timeout=90")
    summary = hitl.run(cfg)
    assert summary.reason != "timeout" and summary.rated == 4, summary  # refused requests would leave it at 0
