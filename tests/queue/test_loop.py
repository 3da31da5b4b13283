"""Layer 2: the loop in-process, rated by a simulated person through the storage."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import threading
import time

from omegaconf import DictConfig
import optuna
from optuna.trial import TrialState
from optuna_dashboard import get_note
import pytest

import hitl
from hitl.app import open_study
from hitl.config import build
from hitl.config import build_storage
from hitl.queue import ERROR_ATTR
from hitl.queue import READY_ATTR
from tests.conftest import Rater
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


def _storage(cfg: DictConfig) -> optuna.storages.BaseStorage:
    return build_storage(cfg.storage)


def test_batch_invariant_and_stop_at_n_trials(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg(TUTORIAL, "n_trials=12", "batch=4")
    storage = _storage(cfg)
    rate = lambda p: 1.0 if p["r"] < 128 else -1.0  # noqa: E731
    with Rater(storage, "tutorial-choice", value=rate, delay=0.15) as rater:
        summary = hitl.run(cfg)
    assert summary.reason == "n_trials"
    assert summary.rated == 12 and summary.waiting == 0
    assert rater.max_waiting <= 4  # never more than batch awaiting rating
    assert rater.samples.count(4) >= 2, rater.samples  # and refilled to batch after ratings
    trials = optuna.load_study(study_name="tutorial-choice", storage=storage).trials
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 12
    assert len(trials) == 12  # no trial made beyond what n_trials needs
    assert summary.best_value == -1.0 and summary.best_params is not None


def test_every_waiting_trial_has_its_image_and_note(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    cfg = make_cfg(TUTORIAL, "timeout=3", "batch=3")
    hitl.run(cfg)
    study = optuna.load_study(study_name="tutorial-choice", storage=_storage(cfg))
    waiting = waiting_trials(study._storage, study._study_id)
    assert len(waiting) == 3
    for t in waiting:
        note = get_note(optuna.Trial(study, t._trial_id))
        assert f"## Trial {t.number}" in note and "| r |" in note
        (meta,) = [json.loads(v) for k, v in t.system_attrs.items() if k.startswith("artifacts:")]
        assert f"/artifacts/{study._study_id}/{t._trial_id}/{meta['artifact_id']}" in note
        image = tmp_path / "artifacts" / meta["artifact_id"]
        assert image.stat().st_size > 0
        from PIL import Image

        with Image.open(image) as img:
            assert img.size == (320, 240)
            assert img.getpixel((10, 10)) == (t.params["r"], t.params["g"], t.params["b"])


def test_resume_adopts_waiting_trials_and_creates_no_extras(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg(TUTORIAL, "timeout=3", "batch=4")
    hitl.run(cfg)
    storage = _storage(cfg)
    first = [t.number for t in optuna.load_study(study_name="tutorial-choice", storage=storage).trials]
    assert len(first) == 4
    summary = hitl.run(cfg)  # the same command again
    trials = optuna.load_study(study_name="tutorial-choice", storage=storage).trials
    assert [t.number for t in trials] == first and summary.waiting == 4
    with Rater(storage, "tutorial-choice") as rater:
        hitl.run(make_cfg(TUTORIAL, "n_trials=6"))
    assert sorted(rater.rated)[:4] == first  # the adopted ones were rated, not replaced


def test_mid_render_crash_is_repaired_on_start(make_cfg: Callable[..., DictConfig],
                                               caplog: pytest.LogCaptureFixture) -> None:
    cfg = make_cfg(TUTORIAL, "timeout=3", "batch=2")
    storage = _storage(cfg)
    widgets = build(cfg.widget, "widget")
    study, _ = open_study(storage=storage, study_name="tutorial-choice",
                          sampler=optuna.samplers.RandomSampler(), widgets=widgets)
    orphan = study.ask()  # a process died after ask, before its output was stored
    orphan.suggest_int("r", 0, 255)
    with caplog.at_level("WARNING", logger="hitl"):
        summary = hitl.run(cfg)
    assert storage.get_trial(orphan._trial_id).state == TrialState.FAIL
    assert "no output was stored" in storage.get_trial(orphan._trial_id).user_attrs[ERROR_ATTR]
    assert f"trial {orphan.number} failed and replaced: no output was stored" in caplog.text
    assert summary.waiting == 2
    assert all(READY_ATTR in t.system_attrs for t in waiting_trials(storage, study._study_id))


def test_timeout_and_stop_event(make_cfg: Callable[..., DictConfig]) -> None:
    started = time.monotonic()
    summary = hitl.run(make_cfg(TUTORIAL, "timeout=0.5"))
    assert summary.reason == "timeout" and 0.5 <= time.monotonic() - started < 10


def test_refill_is_prompt_after_a_rating(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg(TUTORIAL, "n_trials=3", "batch=1", "poll_interval=5")  # only the wake-up can make it prompt
    storage = _storage(cfg)
    wakeup, stop = threading.Event(), threading.Event()
    study, _ = open_study(storage=storage, study_name="s", sampler=optuna.samplers.RandomSampler(),
                          widgets=build(cfg.widget, "widget"))
    loop = hitl.Loop(study=study, generator=build(cfg.generator, "generator"),
                     artifact_store=build(cfg.artifacts, "artifacts"), batch=1, n_trials=3,
                     poll_interval=5, wakeup=wakeup, stop=stop)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        for _ in range(3):
            deadline = time.monotonic() + 3
            while not waiting_trials(storage, study._study_id):
                assert time.monotonic() < deadline, "no trial appeared within 3 s of a rating"
                time.sleep(0.01)
            (t,) = waiting_trials(storage, study._study_id)
            storage.set_trial_state_values(t._trial_id, TrialState.COMPLETE, [0.0])
            wakeup.set()  # what the embedded dashboard does after a tell
        thread.join(3)
        assert not thread.is_alive()
    finally:
        stop.set()
        thread.join()


def test_a_failing_render_fails_that_trial_and_the_loop_goes_on(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg(TUTORIAL, "timeout=3", "batch=2", "generator._target_=tests.queue.test_loop.FlakyGenerator")
    summary = hitl.run(cfg)
    study = optuna.load_study(study_name="tutorial-choice", storage=_storage(cfg))
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed and "render broke" in failed[0].user_attrs[ERROR_ATTR]
    assert summary.waiting == 2


def test_a_generator_that_always_fails_stops_the_run(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg(TUTORIAL, "timeout=5", "generator._target_=tests.queue.test_loop.BrokenGenerator")
    with pytest.raises(hitl.HitlError, match="renders failed in a row"):
        hitl.run(cfg)


class FlakyGenerator(hitl.generators.ColorGenerator):
    calls = 0

    def render(self, params, directory):  # type: ignore[no-untyped-def]
        FlakyGenerator.calls += 1
        if FlakyGenerator.calls == 1:
            raise RuntimeError("render broke")
        return super().render(params, directory)


class BrokenGenerator(hitl.generators.ColorGenerator):
    def render(self, params, directory):  # type: ignore[no-untyped-def]
        raise RuntimeError("always broken")


class SlowSampler(optuna.samplers.RandomSampler):
    """A sampler whose every suggestion takes ``seconds`` (a GP's slow ask)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seed=0)
        self.seconds = seconds

    def sample_independent(self, study, trial, param_name, param_distribution):  # type: ignore[no-untyped-def]
        time.sleep(self.seconds)
        return super().sample_independent(study, trial, param_name, param_distribution)


def test_a_slow_ask_does_not_hold_up_another_worker(make_cfg: Callable[..., DictConfig]) -> None:
    """The sampler runs outside the study lock: while one worker's ask takes seconds, another fills the queue."""
    cfg = make_cfg(TUTORIAL, "batch=4")
    loops = []
    for sampler in (SlowSampler(seconds=1.0), optuna.samplers.RandomSampler(seed=1)):
        storage = build_storage(cfg.storage)
        study, _ = open_study(storage=storage, study_name=cfg.study_name, sampler=sampler,
                              widgets=build(cfg.widget, "widget"))
        loops.append(hitl.Loop(study=study, generator=build(cfg.generator, "generator"),
                               artifact_store=build(cfg.artifacts, "artifacts"), batch=4))
    slow = threading.Thread(target=loops[0].make_trial)
    slow.start()
    time.sleep(0.3)  # the slow worker holds its trial and is sampling (3 params x 1 s)
    started = time.monotonic()
    made = [loops[1].make_trial() for _ in range(3)]
    fast_took = time.monotonic() - started
    assert slow.is_alive()  # still sampling while the other worker made its 3 trials
    slow.join()
    assert all(t is not None for t in made) and fast_took < 2.0, fast_took
    study = optuna.load_study(study_name=cfg.study_name, storage=build_storage(cfg.storage))
    assert len(waiting_trials(study._storage, study._study_id)) == 4


def test_a_rerun_elsewhere_warns_that_the_waiting_outputs_are_missing(
    make_cfg: Callable[..., DictConfig], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hitl.run(make_cfg(TUTORIAL, "timeout=3"))
    with caplog.at_level("WARNING", logger="hitl"):
        hitl.run(make_cfg(TUTORIAL, "timeout=0.2", f"artifacts.base_path={tmp_path / 'elsewhere'}"))
    assert "4 waiting trial(s) (0, 1, 2, 3) have outputs that the artifact store here" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="hitl"):
        hitl.run(make_cfg(TUTORIAL, "timeout=0.2"))  # from where they were made: nothing to say
    assert "have outputs that" not in caplog.text


def test_a_fresh_trial_is_the_trial_optuna_would_build(make_cfg: Callable[..., DictConfig]) -> None:
    """The loop builds its new trial from what it wrote; it must match optuna's own ``Trial`` for the same id."""
    from hitl.queue._lease import Worker
    from hitl.queue._step import fresh_trial

    cfg = make_cfg(TUTORIAL)
    storage = build_storage(cfg.storage)
    study, _ = open_study(storage=storage, study_name=cfg.study_name, sampler=optuna.samplers.RandomSampler(),
                          widgets=build(cfg.widget, "widget"))
    study = optuna.load_study(study_name=cfg.study_name, storage=storage)  # optuna's cached storage
    for _ in range(3):
        frozen = Worker(study._storage, 30).new_trial(study._study_id)
        ours, optunas = fresh_trial(study, frozen), optuna.Trial(study, frozen._trial_id)
        assert sorted(vars(ours)) == sorted(vars(optunas))  # the same attributes optuna's constructor sets
        for name in vars(optunas):
            if name not in ("study", "storage"):
                assert getattr(ours, name) == getattr(optunas, name), name
        assert ours.number == study._storage.get_trial(frozen._trial_id).number
    assert [t.number for t in study.trials] == [0, 1, 2]
