"""Creating or reopening the study, refusing one that holds a different experiment."""

from __future__ import annotations

import re

import optuna
from optuna.storages import BaseStorage

from hitl._errors import HitlError
from hitl.generators import Generator
from hitl.server import WidgetSet


WIDGET_SET_ATTR = "hitl:widget_set"
SPACE_ATTR = "hitl:space"  # the generator's parameters and their kinds
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.,:=+@#\[\]-]{0,299}$")


def check_study_name(name: str) -> None:
    """Study names show up in URLs and file names: keep them to a safe alphabet."""
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in " _.,:=+@#[]-"))})
    if name and bad and not name.isascii():
        suggestion = "".join(c if c.isascii() else "_" for c in name)
        raise HitlError(
            f"study_name={name!r}: {''.join(bad)!r} is not allowed (study names appear in URLs and file names); "
            f"use ASCII letters, digits and _ . , : = + @ # [ ] -, e.g. study_name='{suggestion}'"
        )
    if not _NAME.match(name) or ".." in name:
        raise HitlError(
            f"study_name={name!r}: use letters, digits, spaces and _ . , : = + @ # [ ] - "
            "(no slashes or '..'), starting with a letter or digit"
        )


def open_study(
    *,
    storage: BaseStorage,
    study_name: str,
    sampler: optuna.samplers.BaseSampler,
    widgets: WidgetSet,
    generator: Generator | None = None,
) -> tuple[optuna.Study, bool]:
    """Return the study and whether it already existed.

    A study made by hitl carries its widget set's signature and its generator's parameters;
    reopening it with another set (or another direction), or with a generator of other
    parameters, would mix two experiments, so it is refused.
    """
    try:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    except KeyError:
        try:
            study = optuna.create_study(
                study_name=study_name, storage=storage, sampler=sampler, directions=widgets.directions
            )
        except optuna.exceptions.DuplicatedStudyError:
            # Workers started together on a new study: another one created it since our load.
            return _reopen(storage=storage, study_name=study_name, sampler=sampler, widgets=widgets,
                           generator=generator)
        widgets.register(study)
        storage.set_study_system_attr(study._study_id, WIDGET_SET_ATTR, widgets.signature())
        if generator is not None:
            storage.set_study_system_attr(study._study_id, SPACE_ATTR, generator.space_kinds())
        return study, False
    return _reopen(storage=storage, study_name=study_name, sampler=sampler, widgets=widgets,
                   generator=generator, study=study)


def _reopen(*, storage: BaseStorage, study_name: str, sampler: optuna.samplers.BaseSampler, widgets: WidgetSet,
            generator: Generator | None, study: optuna.Study | None = None) -> tuple[optuna.Study, bool]:
    if study is None:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    _check_compatible(study, widgets)
    if generator is not None:
        _check_space(study, generator)
    return study, True


def _check_space(study: optuna.Study, generator: Generator) -> None:
    stored = study._storage.get_study_system_attrs(study._study_id).get(SPACE_ATTR)
    kinds = generator.space_kinds()
    if stored is None:
        study._storage.set_study_system_attr(study._study_id, SPACE_ATTR, kinds)
    elif stored != kinds:
        raise HitlError(
            f"study_name={study.study_name!r} holds trials of other parameters ({_kinds(stored)}) than this "
            f"generator's ({_kinds(kinds)}): pick another study_name= or the generator= option the study was made with"
        )


def _kinds(kinds: dict[str, str]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in kinds.items())


def _check_compatible(study: optuna.Study, widgets: WidgetSet) -> None:
    directions = [d.name.lower() for d in study.directions]
    stored = study._storage.get_study_system_attrs(study._study_id).get(WIDGET_SET_ATTR)
    fix = "pick another study_name= or the widget= option the study was made with"
    if directions != widgets.directions:
        raise HitlError(
            f"study_name={study.study_name!r} exists with directions {directions}, but widget="
            f"{widgets.name} wants {widgets.directions}: {fix}"
        )
    if stored is not None and stored != widgets.signature():
        raise HitlError(
            f"study_name={study.study_name!r} exists with another widget set "
            f"({_describe(stored)}), not widget={widgets.name}: {fix}"
        )
    if stored is None:
        # A study made outside hitl with matching directions: adopt it with our forms.
        widgets.register(study)
        study._storage.set_study_system_attr(study._study_id, WIDGET_SET_ATTR, widgets.signature())


def _describe(signature: dict) -> str:
    kinds = [w.get("type", "?") for w in signature.get("widgets", [])]
    return f"{'/'.join(kinds)} for {signature.get('names')}"
