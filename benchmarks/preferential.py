"""Comparisons against ratings: a simulated person's clicks to reach what they want, side by side.

Each click of the person is one interaction: a rating in the rating mode, a choice of the worst
of the ``batch`` candidates shown in the comparison mode (``mode=preferential``). Tasks, hidden
targets, raters and success thresholds are those of ``benchmarks/real_tasks.py`` (whose
``build`` composes ``conf/`` as a user's command line would, and whose rating protocol
``run_once`` is reused as it is for the rating rows).

Comparison protocol: 4 candidates are shown; the simulated person
(:class:`hitl.evaluators._compare.SimulatedComparer`, the same rater: scorer, noise, lapse)
chooses the worst, which is recorded as optuna-dashboard's page records it (``ChooseWorst``:
the 3 others preferred to it); one new candidate is asked in its place. A run reaches the target
with the first choice that had an output within the task's success threshold on show; it stops
at the task's cap (counted as the cap, a failure). Ask time: ``study.ask`` plus the suggestions.

    python benchmarks/preferential.py                                   # colour and photo, steady and inconsistent
    python benchmarks/preferential.py --tasks colour --raters inconsistent --runs 10
    python benchmarks/preferential.py --rows rating:default,compare:compare,compare:preferential_gp
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from pathlib import Path
import sys
import tempfile
import time
import warnings


sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optuna  # noqa: E402
from optuna_dashboard._preferential_history import NewHistory  # noqa: E402
from optuna_dashboard._preferential_history import report_history  # noqa: E402
from optuna_dashboard.preferential import create_study  # noqa: E402
import real_tasks  # noqa: E402
from real_tasks import BATCH  # noqa: E402
from real_tasks import build  # noqa: E402
from real_tasks import Run  # noqa: E402
from real_tasks import run_once  # noqa: E402
from real_tasks import summarize  # noqa: E402
from real_tasks import Task  # noqa: E402
from real_tasks import TASKS  # noqa: E402

from hitl.evaluators._compare import SimulatedComparer  # noqa: E402


ROWS = "rating:default,compare:compare,compare:preferential_gp"


def compare_once(task: Task, sampler_name: str, rater: str, seed: int, target: int) -> Run:
    """One run of the comparison protocol (module docstring)."""
    sampler, generator, _, judge, success_scorer = build(task, sampler_name, rater, seed, target)
    comparer = SimulatedComparer(rater=judge)
    study = create_study(n_generate=BATCH, sampler=sampler)
    shown: dict[int, tuple[float, bool]] = {}  # number -> (distance the person judges by, within success)
    asks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hitl-bench-") as tmp:
        for choices in range(1, task.cap + 1):
            while len(shown) < BATCH:
                start = time.perf_counter()
                trial = study.ask()
                params = generator.suggest(trial)
                asks.append(time.perf_counter() - start)
                folder = Path(tmp) / str(trial.number)
                folder.mkdir()
                path = Path(generator.render(params, folder))
                shown[trial.number] = (float(judge.scorer(path)), success_scorer(path) < task.success)
            numbers = list(shown)
            worst = numbers[comparer.choose_worst([shown[n][0] for n in numbers])]
            report_history(study._study._study_id, study._study._storage,
                           NewHistory(mode="ChooseWorst", candidates=numbers, clicked=worst))
            if any(shown[n][1] for n in numbers):
                return Run(choices, True, asks)
            del shown[worst]
    return Run(task.cap, False, asks)


def _job(args: tuple[str, str, str, str, int, int]) -> Run:
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mode, name, sampler, rater, seed, target = args
    once = compare_once if mode == "compare" else run_once
    return once(TASKS[name], sampler, rater, seed, target)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="colour,photo", help=f"comma-separated, of {list(TASKS)}")
    parser.add_argument("--raters", default="steady,inconsistent", help="comma-separated (real_tasks.py's raters)")
    parser.add_argument("--rows", default=ROWS, help="comma-separated mode:sampler, mode rating or compare "
                                                     f"(default {ROWS})")
    parser.add_argument("--runs", type=int, default=10, help="runs per row: targets x seeds (default 10)")
    parser.add_argument("--gp-runs", type=int, default=None, help="runs for preferential_gp rows (default --runs)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    rows = [tuple(r.split(":", 1)) for r in args.rows.split(",") if r]
    header = f"{'task':<7} {'rater':<13} {'mode':<8} {'sampler':<16} {'median':>6} {'p80':>6} {'success':>8} {'ask ms':>8}"
    print(f"clicks to reach the target (a rating or a choice of the worst of {BATCH}); failures count as the cap")
    print(header)
    print("-" * len(header))
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name in [t for t in args.tasks.split(",") if t]:
            for rater in [r for r in args.raters.split(",") if r in TASKS[name].raters]:
                for mode, sampler in rows:
                    runs = args.gp_runs if sampler == "preferential_gp" and args.gp_runs else args.runs
                    jobs = [(mode, name, sampler, rater, run // 5, run % 5) for run in range(runs)]
                    s = summarize(list(pool.map(_job, jobs)))
                    print(f"{name:<7} {rater:<13} {mode:<8} {sampler:<16} {s['median']:>6.1f} {s['p80']:>6.1f} "
                          f"{s['success']:>7.0%} {s['ask_ms']:>8.1f}", flush=True)


if __name__ == "__main__":
    real_tasks.warnings.filterwarnings("ignore")
    main()
