"""How long one ask takes with many parameters and many trials, side by side for several samplers.

A study of ``--dims`` float parameters in 0..1 on the 1..10 slider, filled with ``--trials``
rated trials (a person's ratings of their distance to a hidden point) and 3 waiting ones, in
optuna's in-memory storage (so the figures are the sampler's own work: hitl's loop writes a
trial's parameters in one transaction, benchmarks/step_time.py times that); then each sampler, built from ``conf/sampler/<name>.yaml`` as shipped, asks
``--asks`` times (each ask rated at once, 3 others waiting). Prints the median and the 90th
percentile of ``study.ask`` plus the suggestions, the first ask (which takes in the study), and
the median CPU time of an ask (the figure to read on a busy machine).

    python benchmarks/ask_time.py                          # 12 parameters, 1,000 trials
    python benchmarks/ask_time.py --dims 6 --trials 100 --samplers ideal,tpe
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
import sys
import time
import warnings


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydra.utils import instantiate  # noqa: E402
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
import optuna  # noqa: E402
from optuna_dashboard import register_objective_form_widgets  # noqa: E402
from optuna_dashboard import SliderWidget  # noqa: E402


def _fill(storage: optuna.storages.BaseStorage, dims: int, trials: int, seed: int) -> np.ndarray:
    """A study of ``trials`` rated trials and 3 waiting; returns the hidden point."""
    rng = np.random.default_rng(seed)
    ideal = rng.uniform(0.15, 0.85, dims)
    study = optuna.create_study(study_name="ask-time", storage=storage, direction="maximize")
    register_objective_form_widgets(study, widgets=[SliderWidget(min=1, max=10, step=1)])
    dists = {f"x{j:02d}": optuna.distributions.FloatDistribution(0.0, 1.0) for j in range(dims)}
    frozen = []
    for number in range(trials + 3):
        x = rng.random(dims)
        value = float(round(10 - 9 * min(1.0, np.linalg.norm(x - ideal) / (0.5 * np.sqrt(dims)))))
        done = number < trials
        frozen.append(optuna.trial.create_trial(
            params={f"x{j:02d}": float(x[j]) for j in range(dims)}, distributions=dists,
            value=value if done else None,
            state=optuna.trial.TrialState.COMPLETE if done else optuna.trial.TrialState.RUNNING))
    study.add_trials(frozen)
    return ideal


def measure(name: str, dims: int, trials: int, asks: int, seed: int) -> tuple[float, float, float, float]:
    """Median and 90th percentile of an ask, the first ask, and the median CPU time of an ask, in ms.

    The CPU time is this process's own: on a busy machine it stays what a quiet one would show.
    """
    storage = optuna.storages.InMemoryStorage()
    ideal = _fill(storage, dims, trials, seed)
    cfg = OmegaConf.create({"seed": seed, "generator": None,
                            "sampler": OmegaConf.load(ROOT / "conf" / "sampler" / f"{name}.yaml")})
    sampler = instantiate(cfg.sampler, _convert_="all")
    study = optuna.load_study(study_name="ask-time", storage=storage, sampler=sampler)
    times, cpu = [], []
    for _ in range(asks):
        start, start_cpu = time.perf_counter(), time.process_time()
        trial = study.ask()
        x = np.array([trial.suggest_float(f"x{j:02d}", 0.0, 1.0) for j in range(dims)])
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        study.tell(trial, float(round(10 - 9 * min(1.0, np.linalg.norm(x - ideal) / (0.5 * np.sqrt(dims))))))
    ms, cpu_ms = np.array(times) * 1000.0, np.array(cpu) * 1000.0
    return float(np.median(ms[1:])), float(np.percentile(ms[1:], 90)), float(ms[0]), float(np.median(cpu_ms[1:]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=12)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--asks", type=int, default=30)
    parser.add_argument("--samplers", default="ideal,localizer,tpe,random", help="conf/sampler options")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{args.dims} parameters, {args.trials} rated trials and 3 waiting (in memory); {args.asks} asks each")
    print(f"{'sampler':<10} {'median ms':>10} {'p90 ms':>8} {'first ms':>9} {'CPU ms':>7}")
    for name in [s for s in args.samplers.split(",") if s]:
        median, p90, first, cpu = measure(name, args.dims, args.trials, args.asks, args.seed)
        print(f"{name:<10} {median:>10.1f} {p90:>8.1f} {first:>9.1f} {cpu:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
