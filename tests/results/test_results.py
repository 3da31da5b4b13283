"""Results a person can look at: the contact sheet, the plots and ``python -m hitl.results``."""

from __future__ import annotations

from collections.abc import Callable
import copy
import itertools
import logging
import re
from pathlib import Path
import subprocess
import sys

from omegaconf import DictConfig
import optuna
from PIL import Image
import pytest

import hitl
from hitl.artifacts import FileSystemArtifactStore
from hitl.config import build_storage
from hitl.results import BEST_COLOUR
from hitl.results import BORDER
from hitl.results import contact_sheet
from hitl.results import GAP
from hitl.results import result_names
from hitl.results import SheetLayout
from hitl.results import shared_plotlyjs_folder
from hitl.results import write_plots
from hitl.results import write_results
from tests.conftest import Rater
from tests.conftest import ROOT
from tests.conftest import TUTORIAL


RATINGS = [0.0, -1.0, 1.0, 0.0, 1.0, -1.0, 0.0]  # in rating order: two Good (-1), the clear best


@pytest.fixture
def rated(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> tuple[optuna.Study, FileSystemArtifactStore]:
    """The tutorial's study with 7 ratings made through the real loop."""
    cfg = make_cfg(TUTORIAL, "n_trials=7")
    storage = build_storage(cfg.storage)
    ratings = itertools.cycle(RATINGS)
    with Rater(storage, "tutorial-choice", value=lambda p: next(ratings)):
        summary = hitl.run(cfg)
    assert summary.rated == 7
    study = optuna.load_study(study_name="tutorial-choice", storage=storage)
    return study, FileSystemArtifactStore(base_path=tmp_path / "artifacts")


def test_contact_sheet_grid_labels_and_best_frames(rated: tuple, tmp_path: Path) -> None:
    study, store = rated
    trials = sorted(study.trials, key=lambda t: t.number)
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 7
    best = {t.number for t in trials if t.value == -1.0}
    assert len(best) == 2

    path = contact_sheet(study, store, tmp_path / "out" / "sheet.png")
    layout = SheetLayout.for_count(7)
    assert (layout.columns, layout.rows) == (3, 3)  # 7 cells on a near-square grid
    cell_w, cell_h = layout.thumb + 2 * BORDER, layout.cell_height
    with Image.open(path) as img:
        sheet = img.convert("RGB")
    assert sheet.size == layout.size
    assert sheet.size[0] == GAP + 3 * (cell_w + GAP)
    assert sheet.size[1] == layout.header_height + GAP + 3 * (cell_h + GAP)

    for index, trial in enumerate(trials):  # cells in trial order
        left, top, right, bottom = layout.cell_box(index)
        t_left, t_top, t_right, t_bottom = layout.thumb_box(index)
        centre = ((t_left + t_right) // 2, (t_top + t_bottom) // 2)
        assert sheet.getpixel(centre) == (trial.params["r"], trial.params["g"], trial.params["b"])
        # the frame: both edges of the ring on all four sides, half-way along
        mid_x, mid_y = (left + right) // 2, (top + bottom) // 2
        ring = [(mid_x, top), (mid_x, top + BORDER - 1), (mid_x, bottom - 1), (mid_x, bottom - BORDER),
                (left, mid_y), (left + BORDER - 1, mid_y), (right - 1, mid_y), (right - BORDER, mid_y)]
        colours = {sheet.getpixel(xy) for xy in ring}
        if trial.number in best:
            assert colours == {BEST_COLOUR}, trial.number
        else:
            assert BEST_COLOUR not in colours, trial.number


def test_ratings_read_as_the_choice_labels(rated: tuple) -> None:
    from hitl.results._sheet import _rating_labeller

    study, _ = rated
    label = _rating_labeller(study)
    by_value = {t.value: label(t) for t in study.trials}
    assert by_value == {-1.0: "Good 👍", 0.0: "So-so👌", 1.0: "Bad 👎"}  # emoji are dropped when drawn


def test_a_rating_reads_with_the_names_of_who_rated_it(rated: tuple) -> None:
    from hitl.results._sheet import _rating_labeller
    from hitl.server._rating import RATER_ATTR

    study, _ = rated
    label = _rating_labeller(study)
    trial = copy.deepcopy(study.trials[0])  # as the rating view leaves it: names stored before the rating
    trial.user_attrs = {**trial.user_attrs, RATER_ATTR: ["ann", "bob"]}
    assert label(trial) == f"{label(study.trials[0])} by ann, bob"
    assert " by " not in label(study.trials[0])


def test_write_plots_are_standalone_html_with_the_params(rated: tuple, tmp_path: Path) -> None:
    study, _ = rated
    paths = write_plots(study, tmp_path / "plots")
    names = result_names("tutorial-choice")
    assert [p.name for p in paths] == [names["history"], names["parallel"]]
    for p in paths:
        html = p.read_text()
        assert "cdn.plot.ly/plotly" not in html and p.stat().st_size < 200_000  # plotly.js not inlined
        src = re.search(r'<script [^>]*src="([^"]*plotly[^"]*\.min\.js)"', html).group(1)
        assert (p.parent / src).is_file()  # loaded from beside it: works offline
        assert "Looks like sunset color?" in html
    data = paths[1].read_text().split("Plotly.newPlot", 1)[1]
    for param in ("r", "g", "b"):
        assert f'"{param}"' in data


def test_command_writes_the_files_and_fails_in_one_line(rated: tuple, tmp_path: Path) -> None:
    out = tmp_path / "results"
    base = [sys.executable, "-m", "hitl.results", "--artifacts", str(tmp_path / "artifacts")]
    db = f"sqlite:///{tmp_path / 'hitl.db'}"
    done = subprocess.run([*base, "--storage", db, "--study", "tutorial-choice", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = result_names("tutorial-choice")
    for name in names.values():
        assert (out / name).stat().st_size > 0
    assert done.stdout.split() == [str(out / names[k]) for k in ("contact_sheet", "history", "parallel")]

    missing = subprocess.run([*base, "--storage", db, "--study", "nope"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "'nope'" in missing.stderr and "tutorial-choice" in missing.stderr


def test_unreachable_storage_is_one_masked_line(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hitl.results", "--storage", "postgresql+psycopg2://u:s3cret@127.0.0.1:1/db",
         "--study", "x", "--artifacts", str(tmp_path / "artifacts")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "s3cret" not in done.stderr and "u:***@127.0.0.1" in done.stderr


def test_no_ratings_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    study = optuna.create_study(study_name="empty")
    study.ask()  # waiting, not rated
    store = FileSystemArtifactStore(base_path=tmp_path / "artifacts")
    with pytest.raises(hitl.HitlError, match="no rated trials"):
        write_results(study, store, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_one_rating_skips_the_parallel_plot_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    study = optuna.create_study(study_name="one/rating")
    study.enqueue_trial({"x": 1.0})
    study.optimize(lambda t: t.suggest_float("x", 0, 2), n_trials=1)
    store = FileSystemArtifactStore(base_path=tmp_path / "artifacts")
    with caplog.at_level(logging.INFO, logger="hitl"):
        paths = write_results(study, store, tmp_path / "out")
    assert [p.name for p in paths] == ["one-rating-contact-sheet.png", "one-rating-history.html"]
    assert "parallel-coordinate plot skipped" in caplog.text and "at least 2" in caplog.text
    with Image.open(paths[0]) as img:  # a trial without output gets a grey cell, not an error
        assert img.size == SheetLayout.for_count(1).size


def test_runs_share_one_plotlyjs_and_stay_small(rated: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study, store = rated
    monkeypatch.chdir(tmp_path)
    runs = [tmp_path / "outputs" / "2026-01-01" / t for t in ("10-00-00", "11-00-00")]
    for run in runs:
        write_results(study, store, run, plotlyjs_folder=shared_plotlyjs_folder(run))
    bundles = list(tmp_path.rglob("plotly-*.min.js"))
    assert [b.parent for b in bundles] == [tmp_path / "outputs"]  # one for every run's folder
    for run in runs:
        plots = sum(p.stat().st_size for p in run.iterdir() if not p.name.endswith("contact-sheet.png"))
        assert plots < 1_000_000, f"{run}: {plots} bytes besides the contact sheet"
        html = (run / result_names(study.study_name)["history"]).read_text()
        assert '<script charset="utf-8" src="../../' + bundles[0].name + '"' in html
    assert shared_plotlyjs_folder(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    assert shared_plotlyjs_folder(Path("/somewhere/else")) == Path("/somewhere/else")  # outside: itself
