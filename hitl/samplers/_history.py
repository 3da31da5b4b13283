"""What a sampler of hitl's knows of a study, kept current by reading only what changed.

A finished trial never changes again, and trials are numbered 0, 1, 2... in a study, so each
ask needs to look only at the trials new since the last one and at those unfinished then:
the cost of an ask stays the same whether the study holds 100 or 10,000 trials.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from optuna.distributions import BaseDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState


__all__ = ["History", "SpaceScan"]

Key = tuple[Any, ...]
_SHOWN = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING, TrialState.PRUNED)
_AWAITING = (TrialState.RUNNING, TrialState.WAITING)


@dataclass
class History:
    """The shown trials of one study over one search space: their points, outputs and ratings.

    Args:
        names: The parameters that make a point, in order.
        locate: Trials' parameter rows ``(n, len(names))`` -> their shown points (normalized)
            and output keys.
    """

    names: list[str]
    locate: Callable[[NDArray[np.float64]], tuple[NDArray[np.float64], list[Key]]]
    points: dict[int, tuple[NDArray[np.float64], Key]] = field(default_factory=dict)  # shown trials by number
    taken: Counter[Key] = field(default_factory=Counter)  # output keys shown, with how many trials show each
    rated: dict[int, float] = field(default_factory=dict)  # number -> rating
    values: set[float] = field(default_factory=set)  # distinct ratings
    new_ratings: list[int] = field(default_factory=list)  # rated since the caller last took them
    changed_keys: set[Key] = field(default_factory=set)  # outputs whose count in taken changed since last taken
    _open: set[int] = field(default_factory=set)  # unfinished at the last update
    _next: int = 0  # every trial with a lower number was seen finished, or is in _open

    @property
    def pending(self) -> list[NDArray[np.float64]]:
        """The points of the trials awaiting a rating."""
        return [self.points[n][0] for n in sorted(self._open) if n in self.points]

    def update(self, trials: Sequence[FrozenTrial], current: int) -> None:
        """Take in what changed; ``trials`` are the study's, by number; ``current`` is being asked."""
        by_number, end = _by_number(trials)
        numbers = sorted(self._open | set(range(self._next, end)))
        self._next = max(self._next, end)
        located = []
        for number in numbers:
            t = by_number.get(number)
            if t is None:
                continue
            self._forget(number)
            if number == current or not t.state.is_finished():
                self._open.add(number)
            else:
                self._open.discard(number)
            if number == current or t.state not in _SHOWN or not set(self.names) <= set(t.params):
                continue
            located.append(t)
            if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == 1 and math.isfinite(t.values[0]):
                self.rated[number] = float(t.values[0])
                self.values.add(float(t.values[0]))
                self.new_ratings.append(number)
        if located:
            z, keys = self.locate(np.array([[float(t.params[n]) for n in self.names] for t in located]))
            for t, zi, key in zip(located, z, keys):
                self.points[t.number] = (zi, key)
                self.taken[key] += 1
                self.changed_keys.add(key)

    def take_new_ratings(self) -> list[int]:
        new, self.new_ratings = self.new_ratings, []
        return new

    def take_changed_keys(self) -> set[Key]:
        changed, self.changed_keys = self.changed_keys, set()
        return changed

    def _forget(self, number: int) -> None:
        """Drop what an unfinished trial contributed: it is looked at afresh."""
        if number in self.points:
            _, key = self.points.pop(number)
            self.taken[key] -= 1
            self.changed_keys.add(key)
            if self.taken[key] <= 0:
                del self.taken[key]


@dataclass
class SpaceScan:
    """The numeric parameters a study's trials have used, gathered incrementally."""

    space: dict[str, BaseDistribution] = field(default_factory=dict)
    _open: set[int] = field(default_factory=set)
    _next: int = 0

    def update(self, trials: Sequence[FrozenTrial]) -> dict[str, BaseDistribution]:
        by_number, end = _by_number(trials)
        numbers = sorted(self._open | set(range(self._next, end)))
        self._next = max(self._next, end)
        for number in numbers:
            t = by_number.get(number)
            if t is None:
                continue
            if t.state.is_finished():
                self._open.discard(number)
            else:
                self._open.add(number)  # its parameters may still come
            for name, dist in t.distributions.items():
                if isinstance(dist, (FloatDistribution, IntDistribution)) and not dist.single():
                    self.space[name] = dist
        return self.space


def _by_number(trials: Sequence[FrozenTrial]) -> tuple[Any, int]:
    """Trials by number (a study numbers them 0, 1, 2..., so the list itself serves), and the next number."""
    if not trials:
        return {}, 0
    end = trials[-1].number + 1
    if end == len(trials):
        return _ListByNumber(trials), end
    return {t.number: t for t in trials}, end


class _ListByNumber:
    def __init__(self, trials: Sequence[FrozenTrial]) -> None:
        self._trials = trials

    def get(self, number: int) -> FrozenTrial | None:
        return self._trials[number] if 0 <= number < len(self._trials) else None
