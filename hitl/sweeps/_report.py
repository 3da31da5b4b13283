"""The sweep comparison: per setting, ratings needed to reach the target, and best-so-far curves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from hitl.sweeps._jobs import RESULT_FILE


__all__ = ["Row", "compare", "load_results", "write_comparison"]

_log = logging.getLogger("hitl")


@dataclass(frozen=True)
class Row:
    """One setting (a job's overrides but the seed) over its seeds."""

    setting: str
    runs: int
    median: float  # ratings to reach the target; inf when most runs never did
    p80: float
    success_rate: float
    n: int  # ratings every run of the setting made
    best_after_n: float  # median over runs of the best distance within the first n ratings


def load_results(sweep_dir: Path, sweep_id: str | None = None) -> list[dict[str, Any]]:
    """The job result files under ``sweep_dir`` (of sweep ``sweep_id`` only, if given)."""
    results = [json.loads(p.read_text()) for p in sorted(sweep_dir.rglob(RESULT_FILE))]
    return [r for r in results if sweep_id is None or r.get("sweep_id") == sweep_id]


def ratings_to_success(result: dict[str, Any]) -> float:
    """1-based index of the first rating within the success distance; inf if none."""
    for i, r in enumerate(result["ratings"], start=1):
        if r["distance"] is not None and r["distance"] < result["success"]:
            return float(i)
    return math.inf


def best_so_far(result: dict[str, Any]) -> np.ndarray:
    distances = np.array([r["distance"] for r in result["ratings"]], dtype=float)
    return np.minimum.accumulate(distances) if distances.size else distances


def compare(results: list[dict[str, Any]]) -> list[Row]:
    """One row per setting, for the results that carry simulated distances."""
    by_setting: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r.get("success") is not None and r["ratings"]:
            by_setting[r["setting"]].append(r)
    rows = []
    for setting, runs in by_setting.items():
        needed = np.array([ratings_to_success(r) for r in runs])
        n = min(len(r["ratings"]) for r in runs)
        rows.append(Row(
            setting=setting, runs=len(runs), median=_percentile(needed, 50), p80=_percentile(needed, 80),
            success_rate=float(np.isfinite(needed).mean()), n=n,
            best_after_n=float(np.median([best_so_far(r)[n - 1] for r in runs])),
        ))
    return rows


def _percentile(values: np.ndarray, q: float) -> float:
    """Percentile where a run that never succeeded counts as worse than every one that did."""
    big = 1e12
    value = float(np.percentile(np.where(np.isfinite(values), values, big), q))
    return math.inf if value >= big / 10 else value


def format_table(rows: list[Row]) -> str:
    """A Markdown table, as README and the sweep log show it."""
    lines = [
        "| setting | runs | median ratings to success | 80th percentile | success rate | best distance after N (N) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.setting} | {r.runs} | {_fmt(r.median)} | {_fmt(r.p80)} | {r.success_rate:.0%} "
            f"| {r.best_after_n:.1f} ({r.n}) |"
        )
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "not reached" if math.isinf(value) else f"{value:g}"


def write_comparison(sweep_dir: Path, sweep_id: str | None = None) -> list[Path]:
    """Write ``comparison.md`` and ``comparison.png`` into ``sweep_dir``; [] if nothing to compare.

    A rerun into the same folder compares only its own jobs when given its ``sweep_id``.
    """
    results = load_results(sweep_dir, sweep_id)
    rows = compare(results)
    if not rows:
        return []
    table = format_table(rows)
    md = sweep_dir / "comparison.md"
    md.write_text(table + "\n")
    png = sweep_dir / "comparison.png"
    _plot(results, rows, png)
    return [md, png]


def _plot(results: list[dict[str, Any]], rows: list[Row], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only sweeps need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    for row in rows:
        curves = [best_so_far(r)[: row.n] for r in results if r["setting"] == row.setting and r.get("success") is not None]
        stack = np.vstack(curves)
        x = np.arange(1, row.n + 1)
        (line,) = ax.plot(x, np.median(stack, axis=0), label=f"{row.setting} ({row.runs} runs)")
        ax.fill_between(x, np.percentile(stack, 20, axis=0), np.percentile(stack, 80, axis=0),
                        color=line.get_color(), alpha=0.2)
    success = next(r["success"] for r in results if r.get("success") is not None)
    ax.axhline(success, color="grey", linestyle="--", linewidth=1, label=f"target reached (< {success:g})")
    ax.set_xlabel("ratings")
    ax.set_ylabel("best distance so far (median, 20-80% band over seeds)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
