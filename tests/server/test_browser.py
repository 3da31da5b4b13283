"""Rating in a real browser: the note's image loads, the forms store ratings, and no false alert.

optuna-dashboard 0.21.0's UI parses every API answer as JSON, but its tell API answers a
successful rating with an empty 204, so each rating shows "Failed to update trial (...).
Reason: undefined". hitl's dashboard rewrites those answers (``fix_empty_json_responses``).
The first two tests rate through hitl's dashboard; the last is the control, on the bare
dashboard, showing that the alert is real and that ``submit`` below sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import logging
import re
import threading
from typing import Any
from typing import TYPE_CHECKING
from wsgiref.simple_server import make_server
from wsgiref.simple_server import WSGIRequestHandler

from omegaconf import DictConfig
import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import optuna_dashboard
import pytest

from _browser import RunningHitl
from conftest import free_port
from hitl.app import open_study
from hitl.config import build
from hitl.config import build_storage
from hitl.queue import Loop


if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Page


pytestmark = pytest.mark.browser

FAILED = "Failed to update"
# The UI shows the alert within milliseconds of the tell's answer and notistack keeps it
# 5 s, so one look 2 s after the answer sees it if it comes at all.
ALERT_WAIT_MS = 2000
TELL = re.compile(r"/api/trials/\d+/tell$")



@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def logged_trials_url(caplog: pytest.LogCaptureFixture) -> str:
    """The URL hitl tells the person to open."""
    for record in caplog.records:
        found = re.search(r"rate the trials at (\S+)", record.getMessage())
        if found:
            return found.group(1)
    raise AssertionError("hitl logged no URL to rate the trials at")


def show_trial(page: Page, number: int) -> None:
    """Select a trial by its entry in the list, as a person does."""
    page.get_by_role("button", name=re.compile(rf"^Trial {number}\b")).click()
    page.get_by_role("heading", name=re.compile(rf"^Trial {number} \(trial_id=\d+\)$")).wait_for()


def note_image(page: Page, number: int) -> tuple[str, int]:
    """The src and natural width of the image in the trial's note, once the browser decoded it."""
    img = page.get_by_role("img", name=f"output of trial {number}", exact=True)
    img.wait_for()
    img.evaluate("i => i.decode()")  # rejects, failing the test, if the image cannot load
    src, width = img.evaluate("i => [i.getAttribute('src'), i.naturalWidth]")
    return src, width


def set_slider(page: Page, value: int) -> None:
    """Move the slider from its minimum (1) with the arrow keys, as a keyboard user does."""
    thumb = page.get_by_role("slider")
    thumb.focus()
    page.keyboard.press("Home")
    for _ in range(value - 1):
        page.keyboard.press("ArrowRight")
    assert thumb.get_attribute("aria-valuenow") == str(value)


def submit(page: Page) -> list[str]:
    """Press Submit; return the "Failed to update" alerts showing 2 s after the answer."""
    with page.expect_response(lambda r: TELL.search(r.url) is not None and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Submit", exact=True).click()
    assert answer.value.ok, f"the tell API answered {answer.value.status}"
    page.wait_for_timeout(ALERT_WAIT_MS)
    return [text for text in page.get_by_role("alert").all_inner_texts() if FAILED in text]


def stored(storage: optuna.storages.BaseStorage, study_id: int, number: int) -> FrozenTrial:
    return storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, number))


def test_choice_rating_stores_value_without_false_alert(
    make_cfg: Callable[..., DictConfig], page: Page, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hitl")
    # n_trials=5 rather than 2: the loop keeps at most the ratings still wanted waiting, so
    # with batch=4 a rated trial is replaced only while 4 or more ratings are still wanted.
    cfg = make_cfg("widget=choice", "dashboard.enabled=true", f"dashboard.port={free_port()}", "n_trials=5")
    with RunningHitl(cfg) as run:
        run.wait_until(lambda: len(run.waiting()) == 4, "4 trials are waiting")
        first = sorted(t.number for t in run.waiting())
        url = logged_trials_url(caplog)
        assert url == f"{run.url}/dashboard/studies/{run.study_id}/trials"
        page.goto(url)
        src, width = note_image(page, first[0])  # the page opens on the first trial
        assert "/artifacts/" in src and width == 320

        rated = first[2]
        show_trial(page, rated)
        src, width = note_image(page, rated)
        assert "/artifacts/" in src and width == 320
        page.get_by_role("radio", name="Bad 👎").check()  # not the preselected choice
        assert submit(page) == []
        trial = stored(run.storage, run.study_id, rated)
        assert (trial.state, trial.values) == (TrialState.COMPLETE, [1.0])
        page.get_by_role("button", name=re.compile(rf"^Trial {rated}\b")).filter(has_text="Complete").wait_for()

        run.wait_until(lambda: len(run.waiting()) == 4, "a new trial replaced the rated one")
        assert sorted(t.number for t in run.waiting()) == sorted(set(first) - {rated} | {4})

        show_trial(page, first[0])
        page.get_by_role("radio", name="Good 👍").check()
        assert submit(page) == []
        trial = stored(run.storage, run.study_id, first[0])
        assert (trial.state, trial.values) == (TrialState.COMPLETE, [-1.0])
        # RunningHitl rates the 3 still waiting (with 0, So-so), so the run reaches n_trials=5
    assert run.summary is not None
    assert (run.summary.reason, run.summary.rated, run.summary.best_value) == ("n_trials", 5, -1.0)


def test_slider_rating_stores_value_without_false_alert(make_cfg: Callable[..., DictConfig], page: Page) -> None:
    cfg = make_cfg("dashboard.enabled=true", f"dashboard.port={free_port()}", "n_trials=2")
    with RunningHitl(cfg) as run:
        run.wait_until(lambda: len(run.waiting()) == 2, "2 trials are waiting")  # batch capped at n_trials
        page.goto(f"{run.url}/dashboard/studies/{run.study_id}/trials")
        for number, value in ((1, 7), (0, 3)):
            show_trial(page, number)
            src, width = note_image(page, number)
            assert "/artifacts/" in src and width == 320
            set_slider(page, value)
            assert submit(page) == []
            trial = stored(run.storage, run.study_id, number)
            assert (trial.state, trial.values) == (TrialState.COMPLETE, [float(value)])
        run.join()  # the two ratings in the browser are all n_trials=2 wants
        assert not run.alive
    assert run.summary is not None
    assert (run.summary.reason, run.summary.rated, run.summary.best_number) == ("n_trials", 2, 1)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(app: Callable) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; shut it down on exit."""
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="bare-dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bare_dashboard_shows_the_false_alert(make_cfg: Callable[..., DictConfig], page: Page) -> None:
    """Control: without hitl's wrapper the same rating is stored, yet the UI reports a failure."""
    cfg = make_cfg("widget=choice")
    storage = build_storage(cfg.storage)
    study, _ = open_study(
        storage=storage, study_name=cfg.study_name, sampler=build(cfg.sampler, "sampler"),
        widgets=build(cfg.widget, "widget"),
    )
    store = build(cfg.artifacts, "artifacts")
    loop = Loop(study=study, generator=build(cfg.generator, "generator"), artifact_store=store, batch=cfg.batch)
    for _ in range(2):
        loop.make_trial()
    with serving(optuna_dashboard.wsgi(storage, artifact_store=store)) as url:
        page.goto(f"{url}/dashboard/studies/{study._study_id}/trials")
        show_trial(page, 1)
        src, width = note_image(page, 1)
        assert "/artifacts/" in src and width == 320
        page.get_by_role("radio", name="Bad 👎").check()
        alerts = submit(page)
    assert len(alerts) == 1 and "Reason: undefined" in alerts[0], alerts
    trial = stored(storage, study._study_id, 1)
    assert (trial.state, trial.values) == (TrialState.COMPLETE, [1.0])  # a false alarm
