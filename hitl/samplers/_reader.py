"""What hitl's samplers read of a study on each ask: its trials (only what changed), space and widget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

from hitl.queue._feed import TrialFeed
from hitl.samplers._history import SpaceScan
from hitl.samplers._space import recorded_space
from hitl.samplers._space import registered_widget


__all__ = ["StudyReader", "study_key"]


def study_key(study: optuna.Study) -> tuple[Any, ...]:
    """A study's identity in this process (its name alone may be reused in another storage)."""
    return (study.study_name, study._study_id)


class StudyReader:
    """Reads a study for a sampler, once per ask and only what can have changed since the last.

    Args:
        output: The generator; its ``suggest`` gives the search space before the first trial.
    """

    def __init__(self, *, output: Any = None) -> None:
        self.output = output
        self._scans: dict[tuple[Any, ...], SpaceScan] = {}
        self._widgets: dict[tuple[Any, ...], Mapping[str, Any] | None] = {}
        self._feeds: dict[tuple[Any, ...], TrialFeed] = {}
        self._cache: tuple[tuple[Any, ...], list[FrozenTrial]] | None = None

    def trials(self, study: optuna.Study, trial: FrozenTrial) -> list[FrozenTrial]:
        """The study's trials, read once per ask (both hooks of one ask want them).

        Read through a :class:`~hitl.queue._feed.TrialFeed`: only the trials that can have changed
        since the last ask, and only what a sampler uses of them.
        """
        key = (study_key(study), trial.number)
        if self._cache is None or self._cache[0] != key:
            feed = self._feeds.get(key[0])
            if feed is None:
                feed = self._feeds[key[0]] = TrialFeed(study._storage, study._study_id, params=True)
            self._cache = (key, feed.update())
        return self._cache[1]

    def space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """The numeric parameters the study's trials use (the generator's before any has), by name."""
        if len(study.directions) != 1:
            return {}
        scan = self._scans.setdefault(study_key(study), SpaceScan())
        space = dict(scan.update(self.trials(study, trial))) or recorded_space(self.output)
        return dict(sorted(space.items()))

    def widget(self, study: optuna.Study) -> Mapping[str, Any] | None:
        """The rating widget registered with the study, read once (reading it reads every note)."""
        key = study_key(study)
        if key not in self._widgets:
            self._widgets[key] = registered_widget(study)
        return self._widgets[key]
