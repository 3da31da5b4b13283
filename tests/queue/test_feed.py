"""TrialFeed: the same trials optuna reads, from reading only what can have changed."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState
import pytest

from hitl.queue._feed import TrialFeed


def _seen(trials: list[optuna.trial.FrozenTrial]) -> list[tuple]:
    return [(t.number, t._trial_id, t.state, t.values, t.params, t.distributions) for t in trials]


def _exercise(storage: optuna.storages.BaseStorage) -> None:
    """Trials in every state, ratings landing out of order, read after each change."""
    study = optuna.create_study(storage=storage, study_name="feed", direction="maximize")
    other = optuna.create_study(storage=storage, study_name="other")  # its trials must not leak in
    feed = TrialFeed(storage, study._study_id, params=True)
    light = TrialFeed(storage, study._study_id, params=False)
    asked = []
    for i in range(6):
        other.ask().suggest_float("z", 0, 1)
        t = study.ask()
        t.suggest_int("r", 0, 255)
        t.suggest_float("s", 0.1, 10, log=True)
        asked.append(t)
        assert _seen(feed.update()) == _seen(study.get_trials(deepcopy=False))
    study.enqueue_trial({"r": 7, "s": 1.0})
    for t, change in zip(asked, [2.0, "fail", 5.0, None, "prune", 1.5]):
        if change == "fail":
            study.tell(t, state=TrialState.FAIL)
        elif change == "prune":
            study.tell(t, state=TrialState.PRUNED)
        elif change is not None:
            study.tell(t, change)
        trials = feed.update()
        assert _seen(trials) == _seen(study.get_trials(deepcopy=False))
        assert [(t.number, t.state, t.values) for t in light.update()] == \
            [(t.number, t.state, t.values) for t in study.get_trials(deepcopy=False)]
        if isinstance(storage, optuna.storages.RDBStorage):  # others hand over their trials whole
            assert all(t.params == {} for t in light.trials)
    # only new trials and those unfinished at the last read are read again
    assert sorted(t.number for t in feed.changed) == [3, 5, 6]  # 5 was rated since the last read
    feed.update()
    assert sorted(t.number for t in feed.changed) == [3, 6]
    study.tell(asked[3], 9.0)
    study.ask()  # takes the enqueued trial
    study.ask()
    assert _seen(feed.update()) == _seen(study.get_trials(deepcopy=False))
    assert sorted(t.number for t in feed.changed) == [3, 6, 7]
    assert feed.trials[3].values == [9.0] and feed.trials[6].state == TrialState.RUNNING


def test_feed_matches_optuna_on_sqlite_and_in_memory(tmp_path: Path) -> None:
    _exercise(optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'feed.db'}"))
    _exercise(optuna.storages.InMemoryStorage())


@pytest.mark.postgres
def test_feed_matches_optuna_on_postgres(postgres_url: str) -> None:
    storage = optuna.storages.RDBStorage(postgres_url)
    _exercise(storage)
    storage.engine.dispose()
