"""The sweep comparison's numbers from hand-made job results."""

from __future__ import annotations

import json
import math
from pathlib import Path

from PIL import Image

from hitl.sweeps import compare
from hitl.sweeps import RESULT_FILE
from hitl.sweeps import write_comparison


def _job(folder: Path, setting: str, distances: list[float]) -> None:
    folder.mkdir(parents=True)
    ratings = [{"number": i, "values": [0], "distance": d} for i, d in enumerate(distances)]
    (folder / RESULT_FILE).write_text(json.dumps({"setting": setting, "success": 10, "ratings": ratings}))


def test_percentiles_success_rate_and_best_after_n(tmp_path: Path) -> None:
    # setting a: successes at ratings 2, 4, 6 and one run that never succeeds
    _job(tmp_path / "0", "a", [50, 9, 40, 40, 40, 40])
    _job(tmp_path / "1", "a", [50, 40, 30, 5, 40, 40])
    _job(tmp_path / "2", "a", [50, 40, 30, 20, 15, 8])
    _job(tmp_path / "3", "a", [50, 40, 30, 20, 15, 12])
    _job(tmp_path / "4", "b", [1, 50, 50])
    (a, b) = sorted(compare([json.loads(p.read_text()) for p in sorted(tmp_path.rglob(RESULT_FILE))]),
                    key=lambda r: r.setting)
    assert a.runs == 4 and a.success_rate == 0.75
    assert a.median == 5.0  # the median of 2, 4, 6 and a failure counted as worst
    assert math.isinf(a.p80)  # the 80th percentile falls on the failure
    assert a.n == 6 and a.best_after_n == 8.5  # best distances 9, 5, 8, 12
    assert (b.median, b.p80, b.success_rate, b.n) == (1.0, 1.0, 1.0, 3)
    paths = write_comparison(tmp_path)
    assert [p.name for p in paths] == ["comparison.md", "comparison.png"]
    assert "| a | 4 | 5 | not reached | 75% | 8.5 (6) |" in paths[0].read_text()
    with Image.open(paths[1]) as img:
        assert img.size == (800, 500)
