"""Ratings a simulated person needs to reach what they want: tasks x samplers x raters, side by side.

In-process: no dashboard, no artifact store, no database. Each run composes ``conf/`` as a
user's command line would (``sampler=<s> generator=<g> widget=slider evaluator=simulated
evaluator/rater=<habit> ...``), instantiates the sampler, generator, widget set and simulated
rater from it, and the generator really renders every trial to a file that the rater judges.

Tasks (the hidden target varies with the seed):

* ``colour`` (3 parameters): ``generator=perceptual``, 5 sunset targets; success: CIEDE2000 < 10
  to the target (to either target for ``two_colours``). ``tutorial`` is the Optuna Dashboard
  tutorial's setup (``+experiment=tutorial``: TPE, Good/So-so/Bad, r/g/b).
* ``photo`` (6): ``generator=photo``, a random grading in the middle 70 % of every range;
  success: mean per-pixel CIEDE2000 < ``--photo-success`` to the target rendering.
* ``synth`` (6): ``generator=synth``, a random note; success: log-mel distance < 2 dB.
* ``point12`` (12): a synthetic task: the output is a point in ``[0, 1]^12`` written to a file;
  the rater judges its distance to a hidden point; success within ``0.1 * sqrt(12)``.

Raters (``evaluator/rater=`` and ``evaluator/scorer=`` options): ``steady`` judges by the task's
own scorer; ``srgb`` by straight sRGB distance; ``anisotropic`` counts hue 3x and lightness 0.3x
(CIEDE2000's kH, kL; on ``point12`` the parameters' weights run from 3 to 0.3); ``two_colours``
likes either of two colours; ``inconsistent`` has 8/3 of the steady noise and answers 10 % at
random; ``coarse`` uses only 1, 5 and 10 on the slider. Success is always judged by the task's
own noise-free measure, whatever the rater judges by.

Protocol per run: 4 trials await rating at once; the oldest is rated, then one new trial is
asked, so the sampler always asks with 3 others waiting. A run stops at the task's cap (counted
as the cap, a failure). Prints, per task and rater, each sampler's median and 80th percentile of
ratings to success, success rate and median ask time (``study.ask`` plus the suggestions).

    python benchmarks/real_tasks.py                                  # everything, 20 runs per row
    python benchmarks/real_tasks.py --tasks photo --raters steady --runs 10
    python benchmarks/real_tasks.py --samplers default,ideal,localizer,tpe --jobs 2
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
import json
import multiprocessing
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
import warnings


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydra import compose  # noqa: E402
from hydra import initialize_config_dir  # noqa: E402
from hydra.core.global_hydra import GlobalHydra  # noqa: E402
from hydra.utils import instantiate  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402

import hitl  # noqa: E402
from hitl.evaluators import SimulatedRater  # noqa: E402
from hitl.generators import Generator  # noqa: E402


SUNSETS = ((250, 94, 35), (255, 149, 0), (238, 75, 106), (253, 184, 19), (192, 54, 44))
TWILIGHT = (60, 120, 200)  # the second colour the two_colours rater likes
BATCH = 4


@dataclass(frozen=True)
class Task:
    """A task: its generator option, raters, cap and success threshold."""

    name: str
    generator: str
    raters: tuple[str, ...]
    cap: int
    success: float


TASKS = {
    t.name: t
    for t in (
        Task("colour", "perceptual", ("steady", "srgb", "anisotropic", "two_colours", "inconsistent", "coarse"), 40, 10.0),
        Task("photo", "photo", ("steady", "anisotropic", "inconsistent", "coarse"), 60, 4.0),
        Task("synth", "synth", ("steady", "inconsistent", "coarse"), 60, 2.0),
        Task("point12", "point12", ("steady", "anisotropic", "inconsistent", "coarse"), 100, 0.1 * np.sqrt(12)),
    )
}


class PointGenerator(Generator):
    """The synthetic task's generator: the point itself, written as JSON (12 parameters in 0..1)."""

    def __init__(self, *, dims: int = 12) -> None:
        super().__init__(space={f"x{j:02d}": {"low": 0.0, "high": 1.0} for j in range(dims)})

    def render(self, params: Mapping[str, Any], directory: Path) -> Path:
        path = directory / "point.json"
        path.write_text(json.dumps([float(params[n]) for n in sorted(self.space)]))
        return path


class PointDistance:
    """Weighted distance of a point file to a hidden point (weights' root mean square is 1)."""

    def __init__(self, *, target: Sequence[float], weights: Sequence[float] | None = None) -> None:
        self.target = np.asarray(target, dtype=float)
        w = np.ones_like(self.target) if weights is None else np.asarray(weights, dtype=float)
        self.weights = w / np.sqrt(np.mean(w * w))

    def __call__(self, output: Path) -> float:
        point = np.asarray(json.loads(Path(output).read_text()), dtype=float)
        return float(np.linalg.norm(self.weights * (point - self.target)))


def _literal(value: Any) -> str:
    """A value in Hydra's override grammar (dict keys unquoted)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _compose(overrides: list[str]) -> Any:
    if not GlobalHydra.instance().is_initialized():
        hitl.register_configs()
        initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3")
    return compose(config_name="config", overrides=overrides)


def _hidden(task: Task, seed: int, target: int) -> dict[str, Any] | list[float]:
    """The run's hidden target: parameter values in the middle 70 % of each range, or a colour."""
    rng = np.random.default_rng([seed, target, 31])
    if task.name == "colour":
        return list(SUNSETS[target % len(SUNSETS)])
    if task.name == "point12":
        return list(rng.uniform(0.15, 0.85, 12))
    space = instantiate(_compose([f"generator={task.generator}"]).generator).space
    return {n: float(s["low"] + (0.15 + 0.7 * rng.random()) * (s["high"] - s["low"])) for n, s in sorted(space.items())}


def build(task: Task, sampler: str, rater: str, seed: int, target: int) -> tuple[Any, Any, Any, SimulatedRater, Any]:
    """Sampler, generator, widget set, rater and success scorer for one run, from conf/ as shipped."""
    hidden = _hidden(task, seed, target)
    option, *knobs = sampler.split("+")  # e.g. ideal+information=0.1: a knob of the sampler, to compare settings
    generator_option = "color" if task.name == "point12" or option == "tutorial" else task.generator
    overrides = ["evaluator=simulated", f"seed={seed}"]
    if option == "tutorial":  # its own generator (r, g, b), widget (Good / So-so / Bad) and sampler (TPE)
        overrides.append("+experiment=tutorial")
    else:
        overrides += [f"generator={generator_option}", "widget=slider"]
        if option != "default":  # default: the sampler conf/config.yaml picks
            overrides.append(f"sampler={option}")
    overrides += [f"++sampler.{knob}" for knob in knobs]
    habit = rater if rater in ("steady", "inconsistent", "coarse", "anisotropic") else "steady"
    overrides.append(f"evaluator/rater={habit}")
    if rater in ("srgb", "two_colours"):
        overrides.append(f"evaluator/scorer={rater}")
    if task.name == "colour":
        colours = [hidden, list(TWILIGHT)] if rater == "two_colours" else hidden
        overrides.append(f"evaluator.rater.scorer.target={_literal(colours)}")
        overrides += ["generator.width=8", "generator.height=8"]
    elif task.name in ("photo", "synth"):
        overrides.append(f"evaluator.rater.scorer.target={_literal(hidden)}")
        if task.name == "photo":
            overrides += ["generator.max_side=96"]  # a sixth of the pixels: same grading, less time
    cfg = _compose(overrides)
    if task.name == "point12":
        generator = PointGenerator()
        weights = np.geomspace(3.0, 0.3, 12) if rater == "anisotropic" else None
        scorer = PointDistance(target=hidden, weights=weights)
        judge = SimulatedRater(scorer=scorer, noise_sd=0.05 * 0.5 * np.sqrt(12), worst=0.5 * np.sqrt(12),
                               success=task.success, seed=seed, lapse=float(cfg.evaluator.rater.lapse),
                               levels=cfg.evaluator.rater.levels,
                               noise_scale=float(cfg.evaluator.rater.get("noise_scale", 1.0)))
        success_scorer = PointDistance(target=hidden)
        sampler_cfg = cfg.sampler
        if "output" in sampler_cfg:
            sampler_cfg.output = None
        sampler_obj = instantiate(sampler_cfg, _convert_="all")
        if hasattr(sampler_obj, "output"):
            sampler_obj.output = generator
        return sampler_obj, generator, instantiate(cfg.widget, _convert_="all"), judge, success_scorer
    generator = instantiate(cfg.generator, _convert_="all")
    judge = instantiate(cfg.evaluator.rater, _convert_="all")
    plain = _compose([f"generator={generator_option}", "evaluator=simulated"] + [o for o in overrides if o.startswith(
        ("evaluator.rater.scorer.target", "generator."))])
    if rater == "two_colours":
        plain = _compose([f"generator={generator_option}", "evaluator=simulated", "evaluator/scorer=two_colours",
                          f"evaluator.rater.scorer.target={_literal([hidden, list(TWILIGHT)])}"])
    if rater == "srgb":
        plain = _compose([f"generator={generator_option}", "evaluator=simulated",
                          f"evaluator.rater.scorer.target={_literal(hidden)}"])
    success_scorer = instantiate(plain.evaluator.rater.scorer, _convert_="all")
    return instantiate(cfg.sampler, _convert_="all"), generator, instantiate(cfg.widget, _convert_="all"), judge, success_scorer


@dataclass
class Run:
    ratings: int
    success: bool
    ask_seconds: list[float]


def run_once(task: Task, sampler_name: str, rater: str, seed: int, target: int) -> Run:
    """One run of the protocol (module docstring)."""
    sampler, generator, widgets, judge, success_scorer = build(task, sampler_name, rater, seed, target)
    study = optuna.create_study(directions=widgets.directions, sampler=sampler)
    widgets.register(study)
    waiting: deque[tuple[optuna.Trial, Path]] = deque()
    asks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hitl-bench-") as tmp:

        def ask(number: int) -> None:
            start = time.perf_counter()
            trial = study.ask()
            params = generator.suggest(trial)
            asks.append(time.perf_counter() - start)
            folder = Path(tmp) / str(number)
            folder.mkdir()
            waiting.append((trial, Path(generator.render(params, folder))))

        for number in range(BATCH):
            ask(number)
        for rated in range(1, task.cap + 1):
            trial, path = waiting.popleft()
            values, _ = judge.judge(widgets, path)
            study.tell(trial, values)
            if success_scorer(path) < task.success:
                return Run(rated, True, asks)
            ask(rated + BATCH)
    return Run(task.cap, False, asks)


def _job(args: tuple[str, str, str, int, int]) -> Run:
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name, sampler, rater, seed, target = args
    return run_once(TASKS[name], sampler, rater, seed, target)


def summarize(runs: Sequence[Run]) -> dict[str, float]:
    ratings = np.array([r.ratings for r in runs], dtype=float)
    asks = np.concatenate([r.ask_seconds for r in runs]) * 1000.0
    return {"median": float(np.median(ratings)), "p80": float(np.percentile(ratings, 80)),
            "success": float(np.mean([r.success for r in runs])), "ask_ms": float(np.median(asks))}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {list(TASKS)}")
    parser.add_argument("--samplers", default="default,tutorial,tpe,gp,random",
                        help="comma-separated: default (conf/config.yaml's), conf/sampler options (gp needs the gp "
                           "extra), tutorial (colour only); "
                           "option+key=value sets a knob of it, e.g. ideal+information=0.1")
    parser.add_argument("--raters", default="", help="comma-separated; default: every rater of each task")
    parser.add_argument("--runs", type=int, default=20, help="runs per row: targets x seeds (default 20)")
    parser.add_argument("--photo-success", type=float, default=TASKS["photo"].success,
                        help="mean CIEDE2000 that counts as reaching the photo's target (default 4)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    TASKS["photo"] = Task("photo", "photo", TASKS["photo"].raters, TASKS["photo"].cap, args.photo_success)
    names = [t for t in args.tasks.split(",") if t]
    unknown = [t for t in names if t not in TASKS]
    if unknown:
        parser.error(f"unknown tasks {unknown}; pick from {list(TASKS)}")
    samplers = [s for s in args.samplers.split(",") if s]
    header = f"{'task':<8} {'rater':<13} {'sampler':<10} {'median':>6} {'p80':>6} {'success':>8} {'ask ms':>7}"
    print(f"{args.runs} runs per row, {BATCH} awaiting rating at once; failures count as the task's cap")
    print(header)
    print("-" * len(header))
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name in names:
            task = TASKS[name]
            raters = [r for r in (args.raters.split(",") if args.raters else task.raters) if r in task.raters]
            for rater in raters:
                for sampler in samplers:
                    if sampler == "tutorial" and name != "colour":
                        continue
                    jobs = [(name, sampler, rater, run // 5, run % 5) for run in range(args.runs)]
                    s = summarize(list(pool.map(_job, jobs)))
                    print(f"{name:<8} {rater:<13} {sampler:<10} {s['median']:>6.1f} {s['p80']:>6.1f} "
                          f"{s['success']:>7.0%} {s['ask_ms']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
