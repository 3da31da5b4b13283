"""The rating API of the dashboard hitl serves refuses what is no rating, with a 4xx and a one-line
reason; what reaches the storage by another path is never counted, and the worker goes on."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import json
import math
from pathlib import Path
import threading
import time
from typing import Any
import urllib.error
import urllib.request

from omegaconf import DictConfig
import optuna
from optuna.trial import TrialState
import pytest

import hitl
from hitl.config import build
from hitl.config import build_storage
from hitl.queue import ERROR_ATTR
from hitl.queue import Loop
from hitl.queue import READY_ATTR
from hitl.server import check_rating
from hitl.server import EmbeddedDashboard


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class _Slow:
    """A generator whose render waits until released: its trial is being made meanwhile."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.release = inner, threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def render(self, params: dict[str, Any], folder: Path) -> Any:
        self.release.wait(10)
        return self.inner.render(params, folder)


@pytest.fixture
def served(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A study (slider 1..10, batch 2) with one trial waiting and one being made, served by the dashboard."""
    cfg = make_cfg("widget=slider", "batch=2")
    storage = build_storage(cfg.storage)
    widgets = build(cfg.widget, "widget")
    generator = _Slow(build(cfg.generator, "generator"))
    study = optuna.create_study(study_name="s", storage=storage, directions=widgets.directions,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    widgets.register(study)
    loop = Loop(study=study, generator=generator, artifact_store=build(cfg.artifacts, "artifacts"), batch=2,
                poll_interval=0.05)
    generator.release.set()
    ready = loop.make_trial()
    generator.release.clear()
    maker = threading.Thread(target=loop.make_trial)
    maker.start()
    while len(storage.get_all_trials(study._study_id)) < 2:
        time.sleep(0.01)
    making = [t for t in storage.get_all_trials(study._study_id) if t._trial_id != ready._trial_id][0]
    dashboard = EmbeddedDashboard(storage=storage, artifact_store=loop.artifact_store, host="127.0.0.1", port=0).start()
    try:
        yield {"url": dashboard.url, "storage": storage, "study": study, "ready": ready, "making": making,
               "release": generator.release, "maker": maker}
    finally:
        generator.release.set()
        maker.join()
        dashboard.stop()


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"state": "Complete", "values": ["nan"]}, 400, "value 1 ('nan') is not a finite number"),
    ({"state": "Complete", "values": [math.inf]}, 400, "not a finite number"),
    ({"state": "Complete", "values": []}, 400, "0 value(s) given; the study rates 1 objective(s)"),
    ({"state": "Complete", "values": [1, 2]}, 400, "2 value(s) given"),
    ({"state": "Complete", "values": [999]}, 400, "outside the slider's range 1..10"),
    ({"state": "Complete", "values": ["five"]}, 400, "not a finite number"),
    ({"state": "Complete", "values": [True]}, 400, "not a finite number"),
    ({"state": "Complete", "values": 5}, 400, "values must be a list"),
    ({"state": "Complete"}, 400, "values must be a list"),
    ({"state": "Running", "values": [5]}, 400, "state must be either 'Complete' or 'Fail'"),
    ({"user_attrs": {"hitl:rating:bob": [5]}}, 403, "is hitl's own"),
])
def test_a_bad_rating_is_refused_with_its_reason(served: dict[str, Any], body: dict[str, Any], status: int,
                                                 words: str) -> None:
    trial_id = served["ready"]._trial_id
    route = "user-attrs" if "user_attrs" in body else "tell"
    code, answer = _post(f"{served['url']}/api/trials/{trial_id}/{route}", body)
    assert (code, words in answer.get("reason", "")) == (status, True), answer
    assert "\n" not in answer["reason"]
    assert served["storage"].get_trial(trial_id).state == TrialState.RUNNING  # nothing stored


def test_a_trial_being_made_is_neither_rated_nor_failed(served: dict[str, Any]) -> None:
    making = served["making"]._trial_id
    for state in ("Complete", "Fail"):
        code, answer = _post(f"{served['url']}/api/trials/{making}/tell", {"state": state, "values": [5]})
        assert code == 409 and "still being made" in answer["reason"], answer
    served["release"].set()
    served["maker"].join()
    trial = served["storage"].get_trial(making)
    assert trial.state == TrialState.RUNNING and READY_ATTR in trial.system_attrs  # made, and waiting now


def test_a_second_rating_is_a_409_and_failing_by_hand_stays_possible(served: dict[str, Any]) -> None:
    url, ready = served["url"], served["ready"]._trial_id
    assert _post(f"{url}/api/trials/{ready}/tell", {"state": "Complete", "values": [4]})[0] == 200
    code, answer = _post(f"{url}/api/trials/{ready}/tell", {"state": "Complete", "values": [5]})
    assert code == 409 and "rated already" in answer["reason"]
    assert served["storage"].get_trial(ready).values == [4.0]
    code, answer = _post(f"{url}/api/trials/{ready}/user-attrs", {"user_attrs": {"note": "x"}})
    assert code == 409, answer
    assert _post(f"{url}/api/trials/999999/tell", {"state": "Fail"})[0] == 404
    served["release"].set()
    served["maker"].join()
    making = served["making"]._trial_id
    assert _post(f"{url}/api/trials/{making}/user-attrs", {"user_attrs": {"why": "blurry"}})[0] == 200
    assert _post(f"{url}/api/trials/{making}/tell", {"state": "Fail"})[0] == 200
    assert served["storage"].get_trial(making).state == TrialState.FAIL


def test_check_rating_for_other_views(served: dict[str, Any]) -> None:
    storage, ready, making = served["storage"], served["ready"]._trial_id, served["making"]._trial_id
    assert check_rating(storage, ready, [3]) is None
    assert check_rating(storage, ready, [3.5], widgets=[{"type": "choice", "values": [1, 2, 3]}]) is not None
    assert "still being made" in check_rating(storage, making, [3])


@pytest.mark.parametrize("values", [[math.nan], [], [1.0, 2.0]])
@pytest.mark.parametrize("storage_kind", ["sqlite", "journal"])
def test_what_reaches_the_storage_by_another_path_is_never_a_rating(
    make_cfg: Callable[..., DictConfig], tmp_path: Path, values: list[float], storage_kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage_opts = ["storage=journal", f"storage.log_storage.file_path={tmp_path / 'j.log'}"] if storage_kind == "journal" else []
    cfg = make_cfg("widget=slider", "batch=2", "n_trials=2", *storage_opts)
    storage = build_storage(cfg.storage)
    hitl.run(make_cfg("widget=slider", "batch=2", "n_trials=2", "timeout=1", "study_name=s", "sampler=random",
                      *storage_opts, "results=false"))
    study = optuna.load_study(study_name="s", storage=storage)
    waiting = [t for t in study.get_trials() if t.state == TrialState.RUNNING]
    # what a script or the plain optuna-dashboard may store
    storage.set_trial_state_values(waiting[0]._trial_id, TrialState.COMPLETE, values)
    storage.set_trial_state_values(waiting[1]._trial_id, TrialState.COMPLETE, [5.0])
    with caplog.at_level("WARNING", logger="hitl"):
        summary = hitl.run(make_cfg("widget=slider", "batch=2", "timeout=1", "study_name=s", "sampler=random",
                                    *storage_opts, "results=false"))
    assert len(waiting) == 2
    assert summary.rated == 1 and summary.best_numbers == (waiting[1].number,)
    assert f"trial {waiting[0].number} is not counted as a rating" in caplog.text
    if storage_kind == "sqlite":  # recorded as such, so optuna's own readers see it too
        fresh = build_storage(cfg.storage).get_trial(waiting[0]._trial_id)
        assert fresh.state == TrialState.FAIL and "not a rating" in fresh.user_attrs[ERROR_ATTR]
