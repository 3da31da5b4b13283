"""The queue of a comparison study: the candidates shown together, and the choices made over them.

In optuna-dashboard's preferential study a trial stays a candidate until it is chosen as the
worst (it is then the worse side of a preference) or skipped; being compared makes it COMPLETE
(value 0) but it is still shown. ``should_generate()`` counts the same set, but it is a
check-then-act: workers asking at once overshoot ``n_generate``. Here the count is made under the
study lock, like the rating queue's, so workers keep exactly ``batch`` candidates between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import TrialState
from optuna_dashboard.preferential._system_attrs import _SYSTEM_ATTR_PREFIX_PREFERENCE
from optuna_dashboard.preferential._system_attrs import get_skipped_trial_ids

from hitl.queue._tally import Progress
from hitl.queue._tally import Tally


__all__ = ["ComparisonTally", "Comparisons", "PREFERENTIAL_ATTR", "is_preferential"]

PREFERENTIAL_ATTR = "preference:is_preferential"  # optuna-dashboard's own mark: its preferential page shows


def is_preferential(study: Any) -> bool:
    """Whether ``study`` is a comparison study (``mode=preferential``, or optuna-dashboard's ``create_study``)."""
    return bool(study._storage.get_study_system_attrs(study._study_id).get(PREFERENTIAL_ATTR))


@dataclass(frozen=True)
class Comparisons:
    """A study's choices: each one the pairs (better, worse) by trial number it recorded."""

    choices: tuple[tuple[tuple[int, int], ...], ...]
    skipped_ids: frozenset[int]

    @classmethod
    def of(cls, study_system_attrs: Mapping[str, Any]) -> Comparisons:
        choices = tuple(
            tuple((int(b), int(w)) for b, w in value)
            for key, value in study_system_attrs.items()
            if key.startswith(_SYSTEM_ATTR_PREFIX_PREFERENCE) and value  # an undone choice is emptied
        )
        return cls(choices=choices, skipped_ids=frozenset(get_skipped_trial_ids(dict(study_system_attrs))))

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [pair for choice in self.choices for pair in choice]

    @property
    def worse(self) -> set[int]:
        """Numbers of the trials chosen as worse than another: no longer candidates."""
        return {w for _, w in self.pairs}


class ComparisonTally(Tally):
    """Candidates of a comparison study (``waiting``) and the choices made (``rated``).

    A candidate is a running trial (being made or awaiting its first comparison) or a compared
    one, neither chosen as worse nor skipped. Trials are read incrementally as in :class:`Tally`;
    the choices are read from the study's attributes at each update (one query).
    """

    def __init__(self, storage: BaseStorage, study_id: int) -> None:
        super().__init__(storage, study_id, None)
        self._storage = storage
        self._study_id = study_id
        self._numbers: dict[int, int] = {}  # trial id -> number, of running and compared trials
        self._complete: set[int] = set()  # trial ids
        self._comparisons = Comparisons(choices=(), skipped_ids=frozenset())

    @property
    def comparisons(self) -> Comparisons:
        return self._comparisons

    @property
    def waiting(self) -> int:
        worse, skipped = self._comparisons.worse, self._comparisons.skipped_ids
        running = [i for i, state in self._unfinished.items() if state == TrialState.RUNNING]
        return sum(1 for i in [*running, *self._complete] if i not in skipped and self._numbers[i] not in worse)

    def progress(self) -> Progress:
        return Progress(self.waiting, self.rated, counted="chosen")

    def update(self) -> None:
        # the choices first: a trial compared after this read is still counted as a candidate
        self._comparisons = Comparisons.of(self._storage.get_study_system_attrs(self._study_id))
        self._feed.update()
        for t in self._feed.changed:
            self._numbers[t._trial_id] = t.number
            if not t.state.is_finished():
                self._unfinished[t._trial_id] = t.state
                continue
            self._unfinished.pop(t._trial_id, None)
            if t.state == TrialState.COMPLETE:
                self._complete.add(t._trial_id)
        self.rated = len(self._comparisons.choices)
