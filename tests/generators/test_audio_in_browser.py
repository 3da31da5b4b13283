"""The dashboard plays a sound output: the trial page of +experiment=synth has a playable <audio>."""

from __future__ import annotations

from collections.abc import Callable
import re
from typing import TYPE_CHECKING

from omegaconf import DictConfig
import pytest

from _browser import RunningHitl
from conftest import free_port


if TYPE_CHECKING:
    from playwright.sync_api import Browser


pytestmark = pytest.mark.browser



def test_synth_note_plays_on_the_trial_page(make_cfg: Callable[..., DictConfig], browser: Browser) -> None:
    cfg = make_cfg("+experiment=synth", "dashboard.enabled=true", f"dashboard.port={free_port()}",
                   "n_trials=1", "batch=1", "results=false")
    assert cfg.widget.objectives[0].name == "How much do you like this sound?"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        with RunningHitl(cfg) as run:
            run.wait_until(lambda: len(run.waiting()) == 1, "a note is waiting")
            page.goto(f"{run.url}/dashboard/studies/{run.study_id}/trials")
            page.get_by_role("heading", name=re.compile(r"^Trial 0 \(trial_id=\d+\)$")).wait_for()
            page.get_by_text("How much do you like this sound?").first.wait_for()  # the question is the experiment's
            audio = page.locator("audio").first
            audio.wait_for(state="attached")
            page.wait_for_function(
                "() => { const a = document.querySelector('audio'); return a && a.readyState >= 1 && a.duration > 0; }")
            state = audio.evaluate("a => ({ready: a.readyState, duration: a.duration, error: a.error && a.error.code,"
                                   " type: a.querySelector('source').type, src: a.currentSrc})")
            assert state["error"] is None and state["ready"] >= 1, state
            assert 1.0 <= state["duration"] <= 1.5, state  # the 1.2 s note
            assert state["type"].startswith("audio/"), state
    finally:
        context.close()
