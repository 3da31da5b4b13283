"""Ratings a simulated person needs before seeing a colour close to the one they want.

In-process and fast: no Hydra app, no dashboard, no artifact store. Each configuration is built
from the option files in ``conf/`` as they ship (``conf/sampler/<s>.yaml``,
``conf/generator/<g>.yaml``, ``conf/widget/<w>.yaml``, instantiated with ``seed`` set), and its
generator really renders every trial (an 8x8 PNG instead of 320x240: same colour, less time).

Protocol, per run (one hidden target colour, one seed):

* 4 trials (``--batch``) await rating at once: 4 are asked first; then the oldest waiting trial is rated
  (told) and one new trial is asked, so the sampler always asks with 3 others still running.
* The simulated rater opens the rendered PNG, takes its integer sRGB colour, converts it to
  CIELAB (D65) and computes CIEDE2000 to the hidden target, adds Gaussian noise (sd 3) and
  answers through :func:`hitl.evaluators._judge.rate`, the project's mapping onto a widget:
  choice: Good (-1) below 12, So-so (0) below 30, else Bad (1); slider 1..10: linear from 10 at
  distance 0 to 1 at distance 60, on its step.
* Success is the first rated trial whose noise-free distance is below 10; the count is the
  ratings up to and including it. A run stops at 150 ratings (counted as 150, a failure).

It prints, per configuration: median and 80th percentile of ratings to success, success rate,
the pictures shown that were identical to one already rated or waiting, and the time of one ask
(``study.ask`` + the generator's suggestions; median and max over all asks).

    python benchmarks/sample_efficiency_fast.py                 # 5 targets x 20 seeds
    python benchmarks/sample_efficiency_fast.py --seeds 3       # a quick look
    python benchmarks/sample_efficiency_fast.py --configs tutorial,recommended --jobs 2
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
import warnings


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydra.utils import instantiate  # noqa: E402
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
import optuna  # noqa: E402
from PIL import Image  # noqa: E402

from hitl import colorimetry  # noqa: E402
from hitl.evaluators._judge import rate  # noqa: E402


SUNSET_TARGETS: tuple[tuple[int, int, int], ...] = (
    (250, 94, 35),  # orange
    (255, 149, 0),  # amber
    (238, 75, 106),  # pink
    (253, 184, 19),  # gold
    (192, 54, 44),  # brick red
)
"""The hidden sunset colours (sRGB) the simulated person wants, one run per target and seed."""

BATCH = 4  # trials awaiting rating at once
CAP = 150  # ratings before a run counts as a failure
SUCCESS = 10.0  # CIEDE2000 below which the target counts as reached
NOISE_SD = 3.0
THRESHOLDS = (12.0, 30.0)  # Good / So-so / Bad
WORST = 60.0  # a slider's worst end


@dataclass(frozen=True)
class Config:
    """One configuration: option names in conf/ plus dotted overrides (e.g. ``sampler.radius``)."""

    label: str
    sampler: str
    generator: str
    widget: str = "choice"
    overrides: Mapping[str, Any] = field(default_factory=dict)


CONFIGS: dict[str, Config] = {
    c.label: c
    for c in (
        Config("tutorial", "tpe", "color"),
        Config("random", "random", "color"),
        Config("localizer-choice", "localizer", "perceptual"),
        Config("recommended", "localizer", "perceptual", "slider"),
        Config("tpe-perceptual", "tpe", "perceptual"),
        Config("tpe-slider", "tpe", "color", "slider"),
    )
}
"""Configurations by label; ``recommended`` is the proposed default (sampler=localizer generator=perceptual widget=slider)."""
DEFAULT_CONFIGS = ("tutorial", "random", "localizer-choice", "recommended")


@dataclass
class Run:
    """One run's outcome."""

    ratings: int
    success: bool
    duplicates: int
    ask_seconds: list[float]


def build(config: Config, seed: int) -> tuple[Any, Any, Any]:
    """Instantiate the sampler, generator and widget set of ``config`` from conf/, as shipped."""
    root = OmegaConf.create(
        {
            "seed": seed,
            "question": "Looks like sunset color?",  # the widget files ask ${question}
            "sampler": OmegaConf.load(ROOT / "conf" / "sampler" / f"{config.sampler}.yaml"),
            "generator": OmegaConf.load(ROOT / "conf" / "generator" / f"{config.generator}.yaml"),
            "widget": OmegaConf.load(ROOT / "conf" / "widget" / f"{config.widget}.yaml"),
        }
    )
    OmegaConf.update(root, "generator.width", 8)
    OmegaConf.update(root, "generator.height", 8)
    for key, value in config.overrides.items():
        OmegaConf.update(root, key, value, force_add=True)
    generator = instantiate(root.generator, _convert_="all")
    sampler = instantiate(root.sampler, _convert_="all")
    widgets = instantiate(root.widget, _convert_="all")
    return sampler, generator, widgets


def run_once(config: Config, target: Sequence[int], seed: int, batch: int = BATCH) -> Run:
    """One run of the protocol; see the module docstring."""
    sampler, generator, widgets = build(config, seed)
    study = optuna.create_study(directions=widgets.directions, sampler=sampler)
    widgets.register(study)
    objective = widgets.objectives[0]
    target_lab = colorimetry.srgb_to_lab(np.asarray(target, dtype=float))
    noise = np.random.default_rng([seed, *target, 2005])
    waiting: deque[tuple[optuna.Trial, tuple[int, int, int]]] = deque()
    asks: list[float] = []
    duplicates = 0
    shown: set[tuple[int, int, int]] = set()  # rated or waiting

    with tempfile.TemporaryDirectory(prefix="hitl-bench-") as tmp:

        def ask() -> None:
            nonlocal duplicates
            start = time.perf_counter()
            trial = study.ask()
            params = generator.suggest(trial)
            asks.append(time.perf_counter() - start)
            path = generator.render(params, Path(tmp))
            with Image.open(path) as image:
                rgb = tuple(int(c) for c in image.convert("RGB").getpixel((0, 0)))
            duplicates += rgb in shown
            shown.add(rgb)
            waiting.append((trial, rgb))

        for _ in range(batch):
            ask()
        for rated in range(1, CAP + 1):
            trial, rgb = waiting.popleft()
            distance = float(colorimetry.delta_e_2000(colorimetry.srgb_to_lab(np.asarray(rgb, dtype=float)), target_lab))
            seen = max(0.0, distance + float(noise.normal(0.0, NOISE_SD)))
            study.tell(trial, rate(objective, seen, thresholds=THRESHOLDS, worst=WORST))
            if distance < SUCCESS:
                return Run(rated, True, duplicates, asks)
            ask()
    return Run(CAP, False, duplicates, asks)


def _task(args: tuple[Config, tuple[int, int, int], int, int]) -> Run:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return run_once(*args)


def evaluate(config: Config, seeds: int, targets: Sequence[Sequence[int]] = SUNSET_TARGETS, jobs: int = 1,
             batch: int = BATCH) -> list[Run]:
    """All runs of ``config``: every target x seeds ``0..seeds-1``."""
    tasks = [(config, tuple(t), s, batch) for t in targets for s in range(seeds)]
    if jobs <= 1:
        return [_task(t) for t in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_task, tasks, chunksize=2))


def summarize(runs: Sequence[Run]) -> dict[str, float]:
    """Median / 80th percentile of ratings to success, success rate, duplicates, ask times."""
    ratings = np.array([r.ratings for r in runs], dtype=float)
    asks = np.concatenate([r.ask_seconds for r in runs]) * 1000.0
    return {
        "median": float(np.median(ratings)),
        "p80": float(np.percentile(ratings, 80)),
        "success": float(np.mean([r.success for r in runs])),
        "duplicates": float(sum(r.duplicates for r in runs)),
        "ask_ms_median": float(np.median(asks)),
        "ask_ms_max": float(asks.max()),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per target (default 20)")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help=f"comma-separated, of {sorted(CONFIGS)}")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"trials awaiting rating at once (default {BATCH})")
    args = parser.parse_args(argv)
    labels = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in labels if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configs {unknown}; pick from {sorted(CONFIGS)}")
    n = len(SUNSET_TARGETS) * args.seeds
    print(f"{len(SUNSET_TARGETS)} targets x {args.seeds} seeds = {n} runs per configuration, cap {CAP} ratings, "
          f"{args.batch} awaiting rating at once")
    header = f"{'configuration':<18} {'options (sampler/generator/widget)':<36} {'median':>6} {'p80':>6} {'success':>8} {'dupes':>6} {'ask ms med/max':>15}"
    print(header)
    print("-" * len(header))
    for label in labels:
        config = CONFIGS[label]
        s = summarize(evaluate(config, args.seeds, jobs=args.jobs, batch=args.batch))
        options = f"{config.sampler}/{config.generator}/{config.widget}"
        print(
            f"{label:<18} {options:<36} {s['median']:>6.1f} {s['p80']:>6.1f} {s['success']:>7.0%} "
            f"{int(s['duplicates']):>6d} {s['ask_ms_median']:>7.1f}/{s['ask_ms_max']:<7.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
