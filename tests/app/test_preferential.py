"""mode=preferential: a comparison study from the same config groups, its queue, its simulated comparer and results."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
import subprocess
import sys
import threading
import time

import optuna
from optuna.trial import TrialState
from optuna_dashboard.preferential import load_study as load_preferential_study
import pytest

import hitl
from hitl.app._mode import open_study_in_mode
from hitl.config import build
from hitl.config import build_storage
from hitl.evaluators._compare import candidates
from hitl.queue import READY_ATTR
from hitl.results import write_results
from hitl.sweeps._jobs import _choices
from tests.conftest import free_port
from tests.conftest import need


def _histories(study: optuna.Study) -> list[dict]:
    attrs = study._storage.get_study_system_attrs(study._study_id)
    return [json.loads(v) if isinstance(v, str) else v for k, v in attrs.items() if k.startswith("preference:history")]


def test_a_study_remembers_its_mode_and_refuses_the_other(make_cfg) -> None:
    rated = hitl.run(make_cfg("evaluator=simulated", "sampler=random", "study_name=s", "n_trials=2", "results=false"))
    assert rated.rated == 2
    with pytest.raises(hitl.HitlError, match=r"study_name='s' was made with mode=rating .*run it with mode=rating"):
        hitl.run(make_cfg("mode=preferential", "evaluator=simulated", "sampler=random", "study_name=s", "n_trials=2"))
    hitl.run(make_cfg("mode=preferential", "evaluator=simulated", "sampler=random", "study_name=p", "n_trials=2",
                      "results=false"))
    with pytest.raises(hitl.HitlError, match=r"study_name='p' was made with mode=preferential .*mode=preferential"):
        hitl.run(make_cfg("evaluator=simulated", "sampler=random", "study_name=p", "n_trials=2"))


def test_default_study_names_differ_by_mode(make_cfg) -> None:
    assert make_cfg().study_name == "sunset-slider"  # the rating mode's names are as they were
    assert make_cfg("mode=preferential").study_name == "sunset-slider-compare"
    assert make_cfg("mode=preferential", "+experiment=photo").study_name == "photo-slider-compare"


def test_simulated_comparer_chooses_through_the_dashboards_preference_api(make_cfg, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("with a dashboard served, the comparer must choose over HTTP")

    monkeypatch.setattr("hitl.evaluators._compare.report_history", not_here)
    cfg = make_cfg("mode=preferential", "evaluator=simulated", "dashboard.enabled=true", f"dashboard.port={free_port()}",
                   "batch=4", "n_trials=12", "sampler=random", "seed=1")
    with caplog.at_level(logging.INFO, logger="hitl"):
        summary = hitl.run(cfg)
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting ")]
    assert progress and all(" | chosen " in line and " rated " not in line for line in progress), progress
    storage = build_storage(cfg.storage)
    study = load_preferential_study(study_name=cfg.study_name, storage=storage, sampler=optuna.samplers.RandomSampler())
    histories = _histories(study._study)
    assert summary.compared and summary.rated == len(histories) >= 12
    assert all(h["mode"] == "ChooseWorst" and len(h["candidates"]) == 4 for h in histories)  # always the whole batch
    assert len(study.preferences) == 3 * len(histories)  # each choice: the worst below the 3 others
    # the simulated person chose by its distance: the chosen worst is, most of the time, the farthest
    trials = study.trials
    farthest = sum(max(h["candidates"], key=lambda n: trials[n].user_attrs["sim:distance"]) == h["clicked"]
                   for h in histories)
    assert farthest >= 0.6 * len(histories)
    assert summary.best_number is not None and summary.best_number in {t.number for t in study.best_trials}
    records = _choices(study._study, "sim:distance")  # a sweep's report counts clicks: one record a choice
    assert len(records) == summary.rated and all(r["distance"] is not None for r in records)
    sheet = write_results(study._study, build(cfg.artifacts, "artifacts"), tmp_path / "out")
    assert [p.name for p in sheet] == [f"{cfg.study_name}-contact-sheet.png"] and sheet[0].stat().st_size > 1000


def test_python_m_hitl_results_on_a_comparison_study(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("mode=preferential", "evaluator=simulated", "batch=3", "n_trials=5", "sampler=random",
                   "results=false")
    hitl.run(cfg)
    done = subprocess.run([sys.executable, "-m", "hitl.results", "--storage", cfg.storage.url, "--study", cfg.study_name,
                           "--artifacts", cfg.artifacts.base_path, "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "r" / f"{cfg.study_name}-contact-sheet.png")


def _comparing_workers(storage_url: str, cfg, n_workers: int, choices: int) -> tuple[list[int], list[dict]]:
    """``n_workers`` loops on one comparison study, each with its own storage; a person choosing meanwhile."""
    stop = threading.Event()
    loops, studies = [], []
    for _ in range(n_workers):
        storage = build_storage(cfg.storage)
        study, _ = open_study_in_mode(mode="preferential", storage=storage, study_name="shared",
                                      sampler=optuna.samplers.RandomSampler(), widgets=build(cfg.widget, "widget"),
                                      generator=None, batch=4)
        studies.append(study)
        loops.append(hitl.Loop(study=study, generator=build(cfg.generator, "generator"),
                               artifact_store=build(cfg.artifacts, "artifacts"), batch=4, poll_interval=0.02,
                               stop=stop, comparisons=True))
    threads = [threading.Thread(target=loop.run) for loop in loops]
    for t in threads:
        t.start()
    counts: list[int] = []
    study = studies[0]
    try:
        from optuna_dashboard._preferential_history import NewHistory
        from optuna_dashboard._preferential_history import report_history

        deadline = time.monotonic() + 60
        made = 0
        while made < choices and time.monotonic() < deadline:
            shown = candidates(study)
            all_active = [t for t in study._storage.get_all_trials(study._study_id, deepcopy=False,
                                                                   states=(TrialState.RUNNING, TrialState.COMPLETE))]
            counts.append(len(shown))
            assert len(shown) <= 4
            if len(shown) == 4:
                report_history(study._study_id, study._storage, NewHistory(
                    mode="ChooseWorst", candidates=[t.number for t in shown], clicked=shown[made % 4].number))
                made += 1
            time.sleep(0.01)
            del all_active
        assert made == choices, f"only {made} choices in time"
        time.sleep(0.5)  # the workers refill
        counts.append(len(candidates(study)))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    return counts, _histories(study)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_several_workers_keep_exactly_batch_candidates(backend: str, make_cfg, request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        cfg = make_cfg("storage=postgres", f"storage.url={url}")
    else:
        cfg = make_cfg()
    counts, histories = _comparing_workers(cfg.storage.url, cfg, n_workers=3, choices=15)
    assert max(counts) == 4 and counts[-1] == 4  # never above batch, and refilled to it
    assert len(histories) == 15 and all(len(h["candidates"]) == 4 for h in histories)
    storage = build_storage(cfg.storage)
    study = optuna.load_study(study_name="shared", storage=storage, sampler=optuna.samplers.RandomSampler())
    running = [t for t in study.trials if t.state == TrialState.RUNNING]
    assert all(READY_ATTR in t.system_attrs for t in running)  # nothing half-made left behind
    assert len(study.trials) == 4 + 15  # one new candidate per choice, no extras from the three workers


def test_the_comparison_sampler_is_refused_for_ratings(make_cfg) -> None:
    with pytest.raises(hitl.HitlError, match=r"ComparisonSampler learns from comparisons: use it with mode=preferential"):
        hitl.run(make_cfg("sampler=compare", "evaluator=simulated", "n_trials=1"))


def test_preferential_gp_sampler_runs_a_comparison_study(make_cfg) -> None:
    if importlib.util.find_spec("botorch") is None:
        need("botorch is not installed: pip install -e '.[preferential]'")
    summary = hitl.run(make_cfg("mode=preferential", "sampler=preferential_gp", "evaluator=simulated", "batch=3",
                                "n_trials=4", "seed=0", "results=false"))
    assert summary.compared and summary.rated >= 4 and summary.best_number is not None


def test_kill_9_then_resume_keeps_exactly_batch_candidates(make_cfg, tmp_path: Path) -> None:
    """A worker killed at random points (mid-render too) leaves nothing a resume cannot repair: the
    study never holds more than batch candidates, and the next run fills it to exactly batch."""
    import os
    import random

    from tests.queue.test_workers import _Worker

    db, art = tmp_path / "k.db", tmp_path / "art"
    common = ["mode=preferential", "evaluator=simulated", "sampler=random", "batch=3", "lease=1", "poll_interval=0.05",
              "results=false", "study_name=k", f"storage.url=sqlite:///{db}", f"artifacts.base_path={art}",
              "generator.width=64", "generator.height=48"]
    rng = random.Random(0)
    storage = None
    for _ in range(2):
        worker = _Worker(tmp_path, dict(os.environ), *common)
        worker.wait_for("waiting 3")
        time.sleep(rng.uniform(0.05, 0.6))
        worker.kill()
        storage = storage or optuna.storages.RDBStorage(f"sqlite:///{db}")
        study = optuna.load_study(study_name="k", storage=storage)
        shown = candidates(study)
        half_made = [t for t in study.trials if t.state == TrialState.RUNNING and READY_ATTR not in t.system_attrs]
        assert len(shown) + len(half_made) <= 3, (len(shown), len(half_made))
    cfg = make_cfg(*common[:-4], f"storage.url=sqlite:///{db}", f"artifacts.base_path={art}", "study_name=k",
                   "timeout=2", "evaluator=human")  # nobody compares: the run only repairs and refills
    time.sleep(1.1)  # the dead worker's lease runs out
    summary = hitl.run(cfg)
    study = optuna.load_study(study_name="k", storage=storage)
    assert summary.waiting == 3 and len(candidates(study)) == 3
    assert all(READY_ATTR in t.system_attrs for t in study.trials if t.state == TrialState.RUNNING)
    histories = _histories(study)
    assert histories and all(len(h["candidates"]) == 3 for h in histories)
