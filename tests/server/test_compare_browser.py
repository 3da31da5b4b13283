"""mode=preferential in Chromium: the worst chosen on optuna-dashboard's own page, and with a keypress in hitl's view."""

from __future__ import annotations

import contextlib
import json
import time
from typing import TYPE_CHECKING

from optuna_dashboard._preferential_history import NewHistory
from optuna_dashboard._preferential_history import report_history
import pytest

from _browser import RunningHitl
from conftest import free_port
from hitl.queue._compare import Comparisons
from hitl.server._compare._view import CHOOSER_ATTR


if TYPE_CHECKING:
    from playwright.sync_api import Browser


pytestmark = pytest.mark.browser



class ComparingHitl(RunningHitl):
    """A comparison run: on exit the candidates left are compared through the storage until it stops."""

    def candidates(self) -> list[int]:
        from hitl.evaluators._compare import candidates
        import optuna

        study = optuna.load_study(study_name=self.cfg.study_name, storage=self.storage)
        return [t.number for t in candidates(study)]

    def histories(self) -> list[dict]:
        attrs = self.storage.get_study_system_attrs(self.study_id)
        return [json.loads(v) if isinstance(v, str) else v for k, v in attrs.items() if k.startswith("preference:history")]

    def finish(self, value: float = 0.0) -> None:
        deadline = time.monotonic() + self.timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            shown = self.candidates()
            if len(shown) == self.cfg.batch:
                with contextlib.suppress(Exception):
                    report_history(self.study_id, self.storage, NewHistory(mode="ChooseWorst", candidates=shown,
                                                                             clicked=shown[0]))
            self._thread.join(0.05)


def test_choose_the_worst_in_the_dashboard_and_in_the_view(make_cfg, browser: Browser) -> None:
    cfg = make_cfg("mode=preferential", "dashboard.enabled=true", f"dashboard.port={free_port()}", "sampler=random",
                   "batch=3", "n_trials=2")
    with ComparingHitl(cfg) as run:
        run.wait_until(lambda: len(run.candidates()) == 3, "3 candidates are shown")
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script("localStorage.setItem('hitl.name', 'ann')")
        context.set_default_timeout(15_000)
        page = context.new_page()

        # optuna-dashboard's own page: "Which trial is the worst?", a Worst button on each card
        before = run.candidates()
        page.goto(f"{run.url}/dashboard/studies/{run.study_id}")
        page.get_by_text("Which trial is the worst?").wait_for()
        worst_buttons = page.get_by_role("button", name="Worst")
        worst_buttons.first.wait_for()
        assert worst_buttons.count() == 3
        worst_buttons.first.click()
        run.wait_until(lambda: len(run.histories()) == 1, "the dashboard recorded the choice")
        (choice,) = run.histories()
        assert choice["mode"] == "ChooseWorst" and sorted(choice["candidates"]) == before
        assert choice["clicked"] in before
        run.wait_until(lambda: len(run.candidates()) == 3 and choice["clicked"] not in run.candidates(),
                       "the loop replaced the worst")

        # hitl's view: every candidate at once, the digit 2 chooses the second as the worst
        page.goto(f"{run.url}/rate/studies/{run.study_id}")
        page.locator(".card").nth(2).wait_for()
        cards = page.locator(".card")
        assert cards.count() == 3
        shown = [int(cards.nth(i).get_attribute("data-number")) for i in range(3)]
        assert shown == run.candidates()
        assert page.locator(".card img").first.evaluate("img => img.complete && img.naturalWidth > 0")
        page.keyboard.press("2")
        run.wait_until(lambda: len(run.histories()) == 2, "the view recorded the choice")
        second = [h for h in run.histories() if h["id"] != choice["id"]][0]
        assert second["clicked"] == shown[1] and sorted(second["candidates"]) == shown
        attrs = run.storage.get_study_system_attrs(run.study_id)
        assert attrs[CHOOSER_ATTR + second["id"]] == "ann"
        assert len(Comparisons.of(attrs).pairs) == 4  # two choices of the worst of 3
        run.join()  # n_trials=2: the run ends by itself, without refilling
        context.close()
    assert run.summary is not None and run.summary.compared and run.summary.rated == 2
