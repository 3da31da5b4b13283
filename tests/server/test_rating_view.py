"""The rating view in Chromium against the real server: one keypress rates, what shows, who rated,
two people at once, undo, and tokens."""

from __future__ import annotations

from collections.abc import Callable
import json
import re
from typing import TYPE_CHECKING
import urllib.error
import urllib.request

from omegaconf import DictConfig
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import pytest

from _browser import RunningHitl
from conftest import free_port


if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page


pytestmark = pytest.mark.browser

SHOWN = "#output [data-trial]"



def rater(browser: Browser, name: str, width: int = 1280, height: int = 800) -> BrowserContext:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(f"localStorage.setItem('hitl.name', {json.dumps(name)})")
    context.set_default_timeout(15_000)
    return context


def open_view(context: BrowserContext, run: RunningHitl) -> Page:
    page = context.new_page()
    page.goto(f"{run.url}/rate/studies/{run.study_id}")
    page.wait_for_selector(SHOWN)
    return page


def shown(page: Page) -> int:
    return int(page.get_attribute(SHOWN, "data-trial"))


def next_shown(page: Page, before: int) -> int:
    page.wait_for_function(f"document.querySelector('{SHOWN}')?.dataset.trial !== '{before}'")
    return shown(page)


def trial(run: RunningHitl, trial_id: int) -> FrozenTrial:
    return run.storage.get_trial(trial_id)


def fits(page: Page) -> None:
    """Nothing to scroll to: the output and the form are on screen."""
    size = page.evaluate("[document.documentElement.scrollHeight, innerHeight, document.documentElement.scrollWidth, innerWidth]")
    assert size[0] <= size[1] and size[2] <= size[3], f"the page scrolls: {size}"
    for selector in (SHOWN, "#form"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size[1] + 1, (selector, box)


@pytest.fixture
def view_cfg(make_cfg: Callable[..., DictConfig]) -> Callable[..., DictConfig]:
    def make(*overrides: str) -> DictConfig:
        return make_cfg("dashboard.enabled=true", f"dashboard.port={free_port()}", "sampler=random",
                        "dashboard.undo_window=0", "n_trials=8", *overrides)
    return make


@pytest.mark.parametrize(("widget", "keys", "value"), [
    ("choice", ["3"], 1.0),  # the third choice, Bad, is 1
    ("slider", ["7"], 7.0),
    ("slider", ["ArrowRight", "ArrowRight", "Enter"], 6.0),  # the middle (5), one right, Enter
    ("text", ["4", "2", "Enter"], 42.0),
])
def test_keyboard_rates_and_the_next_output_shows(view_cfg: Callable[..., DictConfig], browser: Browser,
                                                  widget: str, keys: list[str], value: float) -> None:
    with RunningHitl(view_cfg(f"widget={widget}")) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        for width, height in ((1280, 800), (390, 844)):
            context = rater(browser, "ann", width, height)
            page = open_view(context, run)
            fits(page)
            assert page.locator("#params").is_hidden()  # no numbers beside the output by default
            rated = shown(page)
            for key in keys:
                page.keyboard.press(key)
            after = next_shown(page, rated)
            assert after != rated
            stored = trial(run, rated)
            assert (stored.state, stored.values) == (TrialState.COMPLETE, [value])
            assert (stored.user_attrs["hitl:rater"], stored.user_attrs["hitl:rating:ann"]) == ("ann", [value])
            assert page.get_by_role("alert").is_hidden()
            context.close()


def test_no_rating_without_a_choice(view_cfg: Callable[..., DictConfig], browser: Browser) -> None:
    """Enter alone stores nothing: there is no default value to submit by accident."""
    with RunningHitl(view_cfg()) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        context = rater(browser, "ann")
        page = open_view(context, run)
        first = shown(page)
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        assert shown(page) == first and trial(run, first).state == TrialState.RUNNING
        page.get_by_role("radio", name="4").click()  # one click rates
        next_shown(page, first)
        assert trial(run, first).values == [4.0]
        context.close()


def test_audio_output_plays_in_the_view(view_cfg: Callable[..., DictConfig], browser: Browser) -> None:
    with RunningHitl(view_cfg("+experiment=synth")) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        context = rater(browser, "ann")
        page = open_view(context, run)
        audio = page.locator("#output audio")
        page.wait_for_function("document.querySelector('#output audio').readyState >= 1")
        assert audio.evaluate("a => a.duration") == pytest.approx(1.2, abs=0.05)
        first = shown(page)
        page.keyboard.press("8")
        next_shown(page, first)
        assert trial(run, first).values == [8.0]
        context.close()


def test_two_people_never_see_the_same_output(view_cfg: Callable[..., DictConfig], browser: Browser) -> None:
    with RunningHitl(view_cfg("n_trials=14")) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        pages = [open_view(rater(browser, name), run) for name in ("ann", "bob")]
        for turn in range(10):
            on_screen = [shown(p) for p in pages]
            assert on_screen[0] != on_screen[1], f"turn {turn}: both see trial {on_screen[0]}"
            page = pages[turn % 2]
            page.keyboard.press("5")
            next_shown(page, on_screen[turn % 2])
        rated = [t for t in run.storage.get_all_trials(run.study_id, states=(TrialState.COMPLETE,))]
        assert sorted(t.user_attrs["hitl:rater"] for t in rated) == ["ann"] * 5 + ["bob"] * 5
        for p in pages:
            p.context.close()


def test_a_lost_race_is_a_clear_409_with_the_next_output(view_cfg: Callable[..., DictConfig]) -> None:
    with RunningHitl(view_cfg()) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        api = f"{run.url}/rate/api/studies/{run.study_id}"
        ann = post(f"{api}/next", {"client": "a", "name": "ann"})[1]["trial"]
        status, answer = post(f"{api}/trials/{ann['id']}/rate", {"client": "b", "name": "bob", "values": [3]})
        assert status == 409 and "another rater has trial" in answer["reason"]
        assert answer["trial"]["id"] != ann["id"]  # bob is handed another output
        run.storage.set_trial_state_values(ann["id"], TrialState.COMPLETE, [2.0])  # rated in the dashboard
        status, answer = post(f"{api}/trials/{ann['id']}/rate", {"client": "a", "name": "ann", "values": [9]})
        assert status == 409 and "rated already" in answer["reason"]
        assert trial(run, ann["id"]).values == [2.0]
        status, answer = post(f"{api}/trials/{answer['trial']['id']}/rate", {"client": "a", "name": "ann", "values": [11]})
        assert status == 400 and "outside the slider's 1..10" in answer["reason"]


def test_each_output_rated_by_two_people_gets_their_median(view_cfg: Callable[..., DictConfig]) -> None:
    with RunningHitl(view_cfg("raters_per_output=2")) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        api = f"{run.url}/rate/api/studies/{run.study_id}"
        first = post(f"{api}/next", {"client": "a", "name": "ann"})[1]["trial"]
        status, answer = post(f"{api}/trials/{first['id']}/rate", {"client": "a", "name": "ann", "values": [3]})
        assert status == 200 and answer["trial"]["id"] != first["id"]  # never the one ann rated
        assert trial(run, first["id"]).state == TrialState.RUNNING  # one rating of two
        bob = post(f"{api}/next", {"client": "b", "name": "bob", "prefer": first["id"]})[1]["trial"]
        assert bob["id"] == first["id"]
        post(f"{api}/trials/{first['id']}/rate", {"client": "b", "name": "bob", "values": [8]})
        stored = trial(run, first["id"])
        assert (stored.state, stored.values) == (TrialState.COMPLETE, [5.5])
        assert stored.user_attrs["hitl:rater"] == "ann, bob"
        assert (stored.user_attrs["hitl:rating:ann"], stored.user_attrs["hitl:rating:bob"]) == ([3.0], [8.0])


def test_undo_takes_the_last_rating_back(view_cfg: Callable[..., DictConfig], browser: Browser) -> None:
    with RunningHitl(view_cfg("dashboard.undo_window=30")) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        context = rater(browser, "ann")
        page = open_view(context, run)
        first = shown(page)
        page.keyboard.press("2")
        second = next_shown(page, first)
        assert trial(run, first).state == TrialState.RUNNING  # told only after the undo window
        page.keyboard.press("u")
        assert next_shown(page, second) == first
        page.get_by_text("undone: trial").wait_for()
        assert trial(run, first).user_attrs["hitl:rating:ann"] is None
        page.keyboard.press("9")
        next_shown(page, first)
        page.keyboard.press("4")  # the next rating hands the previous one to the sampler
        page.wait_for_function(f"document.querySelector('{SHOWN}').dataset.trial !== '{second}'")
        stored = trial(run, first)
        assert (stored.state, stored.values, stored.user_attrs["hitl:rating:ann"]) == (TrialState.COMPLETE, [9.0], [9.0])
        third = shown(page)
        page.keyboard.press("u")  # undoes the 4; then the 9 is the sampler's already
        assert next_shown(page, third) == second  # the undo has landed before the next key
        page.get_by_text("undone: trial").wait_for()
        page.keyboard.press("u")
        page.get_by_text("nothing to undo").wait_for()
        context.close()


def post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return _open(request, token)


def get(url: str, token: str | None = None) -> tuple[int, dict]:
    return _open(urllib.request.Request(url), token)


def _open(request: urllib.request.Request, token: str | None) -> tuple[int, dict]:
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        return status, json.loads(text or b"{}")
    except ValueError:
        return status, {}


def test_tokens_refuse_without_and_open_with(view_cfg: Callable[..., DictConfig], browser: Browser,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="hitl")
    cfg = view_cfg("dashboard.token=rater-secret-1", "dashboard.admin_token=admin-secret-1",
                   "+dashboard.rater_tokens.cy=cy-secret-12", "dashboard.server=waitress")
    with RunningHitl(cfg) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        waiting = run.waiting()[0]
        artifact = next(k for k in waiting.system_attrs if k.startswith("artifacts:"))[len("artifacts:"):]
        view = f"/rate/studies/{run.study_id}"
        api = f"/rate/api/studies/{run.study_id}"
        pages = [view, "/rate/static/rate.js", api, "/dashboard", f"/dashboard/studies/{run.study_id}/trials",
                 "/api/studies", f"/api/studies/{run.study_id}", f"/artifacts/{run.study_id}/{waiting._trial_id}/{artifact}"]
        posts = [f"{api}/next", f"/api/trials/{waiting._trial_id}/tell", f"/api/studies/{run.study_id}/note"]
        for path in pages:
            assert get(run.url + path)[0] == 401, path
            assert get(run.url + path, "wrong-token-x")[0] == 403, path
            assert get(run.url + path, "admin-secret-1")[0] == 200, path
        for path in posts:
            assert post(run.url + path, {"state": "Fail"})[0] == 401, path
            assert post(run.url + path, {"state": "Fail"}, "rater-secret-1")[0] in (403, 400), path
        assert post(run.url + f"/api/trials/{waiting._trial_id}/tell", {"state": "Fail"}, "rater-secret-1")[0] == 403
        assert trial(run, waiting._trial_id).state == TrialState.RUNNING  # nothing failed it
        for path in ("/dashboard", "/api/studies"):
            assert get(run.url + path, "rater-secret-1")[0] == 403
        assert get(run.url + view, "rater-secret-1")[0] == 200

        logged = re.search(r"rate one output at a time at (\S+)", caplog.text)
        assert logged and logged.group(1) == f"{run.url}{view}?token=rater-secret-1"
        assert f"{run.url}/rate/studies/{run.study_id}?token=cy-secret-12" in caplog.text
        assert "no authentication" not in caplog.text
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{run.url}{view}?token=cy-secret-12")  # cy's own link: named by the token, not asked
        page.wait_for_selector(SHOWN)
        assert "token" not in page.url  # kept as a cookie, not in the address
        first = shown(page)
        page.keyboard.press("6")
        next_shown(page, first)
        assert trial(run, first).user_attrs["hitl:rater"] == "cy"
        context.close()
