"""Opening a study that several workers start on at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import threading
from typing import Any

import optuna
from optuna_dashboard import SliderWidget
import pytest

import hitl
from hitl.app import open_study
from hitl.app._mode import open_study_in_mode


def _widgets() -> hitl.WidgetSet:
    widget = SliderWidget(min=1, max=10, step=1, description="")
    return hitl.WidgetSet(name="slider", objectives=[hitl.Objective(name="q", direction="maximize", widget=widget)])


def test_a_study_another_worker_creates_after_our_look_is_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    real_load = optuna.load_study

    def load_then_lose_the_race(**kwargs: Any) -> optuna.Study:
        monkeypatch.setattr(optuna, "load_study", real_load)
        open_study(storage=storage, study_name="s", sampler=optuna.samplers.RandomSampler(), widgets=_widgets())
        raise KeyError("s")  # what this worker saw a moment before the other one created the study

    monkeypatch.setattr(optuna, "load_study", load_then_lose_the_race)
    study, existed = open_study(storage=storage, study_name="s", sampler=optuna.samplers.RandomSampler(),
                                widgets=_widgets())
    assert existed and study.study_name == "s"
    assert [s.study_name for s in storage.get_all_studies()] == ["s"]


def _four_workers_at_once(url: str, open_one: Callable[[optuna.storages.BaseStorage, str], optuna.Study]) -> None:
    """Five rounds of 4 threads opening one new study at the same moment: all get the same one."""
    optuna.storages.RDBStorage(url).engine.dispose()  # tables first: that race is build_storage's
    for round_ in range(5):
        start = threading.Barrier(4)
        opened: list[int] = []
        failed: list[BaseException] = []

        def worker() -> None:
            start.wait()
            try:
                opened.append(open_one(optuna.storages.RDBStorage(url), f"s{round_}")._study_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failed.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failed, failed
        assert len(opened) == 4 and len(set(opened)) == 1


def test_four_workers_opening_a_new_study_at_once_all_get_it(tmp_path: Path) -> None:
    def open_one(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
        return open_study(storage=storage, study_name=name, sampler=optuna.samplers.RandomSampler(),
                          widgets=_widgets())[0]

    _four_workers_at_once(f"sqlite:///{tmp_path / 'hitl.db'}", open_one)


def test_four_workers_opening_a_new_comparison_study_at_once_all_get_it(tmp_path: Path) -> None:
    """mode=preferential: the losers of the race wait until the winner's study is whole."""

    def open_one(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
        return open_study_in_mode(mode="preferential", storage=storage, study_name=name,
                                  sampler=optuna.samplers.RandomSampler(), widgets=_widgets(), generator=None,
                                  batch=4)[0]

    _four_workers_at_once(f"sqlite:///{tmp_path / 'hitl.db'}", open_one)
