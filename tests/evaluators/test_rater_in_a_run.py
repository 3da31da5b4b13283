"""The simulated rater in a run: through a dashboard with tokens on (with the admin token, as a
script would), and a rater that fails stops the run instead of leaving it waiting."""

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


class BrokenScorer:
    """Judges two outputs, then fails on every other (a user's scorer with a bug)."""

    def __init__(self, **_: object) -> None:
        self.calls = 0

    def __call__(self, path: object) -> float:
        self.calls += 1
        if self.calls > 2:
            raise ValueError("cannot read this output")
        return 5.0


@pytest.mark.parametrize("mode", ["rating", "preferential"])
def test_a_simulated_rater_that_fails_stops_the_run_with_one_line(make_cfg, mode: str) -> None:
    """Without a timeout the run would wait for ratings that never come: it stops and says why."""
    cfg = make_cfg(f"mode={mode}", "evaluator=simulated", "batch=2", "n_trials=20", "sampler=random", "timeout=60",
                   "++evaluator.rater.scorer._target_=tests.evaluators.test_rater_in_a_run.BrokenScorer")
    with pytest.raises(hitl.HitlError, match=r"^evaluator\.rater: the simulated rater failed on .*ValueError: "
                                             r"cannot read this output.*evaluator=human"):
        hitl.run(cfg)
