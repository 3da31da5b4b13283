"""What the kill scenario (``benchmarks/kill_scenario.py``) counts, and the targets it checks."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from optuna.trial import FrozenTrial
from optuna.trial import TrialState


__all__ = ["Report", "check_logs", "check_study"]

_TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Report:
    """What one run of the scenario saw; ``missed`` names the targets it did not meet."""

    storage: str
    batch: int
    kills: int = 0
    acked: int = 0
    refused: int = 0
    unanswered: int = 0  # tells cut off by a kill: stored or not, nobody was told either way
    lost: int = 0
    duplicated: int = 0
    max_unfinished: int = 0
    samples: int = 0
    crashes: int = 0
    longest_refill: float = 0.0
    longest_tell: float = 0.0
    seconds: float = 0.0  # from the first kill's countdown to the last kill
    longest_refill_at: str = ""  # wall-clock time the longest refill ended, to find it in the workers' logs
    details: list[str] = field(default_factory=list)

    @property
    def stall(self) -> float:
        return max(self.longest_refill, self.longest_tell)

    def missed(self, stall_limit: float | None = 5.0) -> list[str]:
        out = [f"{self.lost} lost"] if self.lost else []
        out += [f"{self.duplicated} duplicated"] if self.duplicated else []
        out += [f"{self.max_unfinished} unfinished > batch {self.batch}"] if self.max_unfinished > self.batch else []
        out += [f"{self.crashes} worker crashes"] if self.crashes else []
        out += ["no rating acknowledged"] if not self.acked else []
        if stall_limit is not None and self.stall > stall_limit:
            out.append(f"stall {self.stall:.1f} s > {stall_limit:g} s")
        return out


def check_logs(folder: Path, report: Report) -> None:
    for log in sorted(folder.glob("worker*.log")):
        text = log.read_text(errors="replace")
        if _TRACEBACK in text:
            report.crashes += 1
            at = text.index(_TRACEBACK)
            report.details.append(f"a traceback in {log.name}:\n{text[at:at + 3000]}")


def check_study(trials: list[FrozenTrial], told: dict[int, float], sent: set[int], report: Report) -> None:
    by_id = {t._trial_id: t for t in trials}
    for trial_id, value in told.items():
        t = by_id.get(trial_id)
        if t is None or t.state != TrialState.COMPLETE or t.values != [value]:
            report.lost += 1
            report.details.append(f"acknowledged rating {value:g} of trial id {trial_id} is now "
                                  f"{None if t is None else (t.state.name, t.values)}")
    for t in trials:
        if t.state == TrialState.COMPLETE and t._trial_id not in sent:
            report.duplicated += 1
            report.details.append(f"trial {t.number} completed, but nobody rated it")
    outputs: dict[tuple, int] = {}
    for t in trials:
        if t.state == TrialState.FAIL or not t.params:
            continue
        key = tuple(sorted(t.params.items()))
        if key in outputs:
            report.duplicated += 1
            report.details.append(f"trials {outputs[key]} and {t.number} show the same output {dict(key)}")
        outputs.setdefault(key, t.number)
