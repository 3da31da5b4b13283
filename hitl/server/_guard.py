"""Validation in front of the dashboard's rating API: only a rating the study's form allows reaches the storage.

optuna-dashboard's ``POST /api/trials/<id>/tell`` stores whatever it is sent: a trial still being
made (its output not stored yet), ``NaN``, a value no widget offers, the wrong number of values;
and a second rating of a trial answers 500 with a traceback. :func:`guard` answers these routes
itself: each refusal is a 4xx with ``{"reason": "..."}``, the one line the dashboard's UI shows.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
import json
import math
import re
import threading
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard._form_widget import FORM_WIDGETS_KEY
import sqlalchemy

from hitl.queue._attrs import READY_ATTR
from hitl.queue._lease import LEASE_ATTR


__all__ = ["check_rating", "guard"]

_ROUTE = re.compile(r"^/api/trials/(\d+)/(tell|user-attrs)/?$")
_MAX_BODY = 1 << 20
_OWN_PREFIX = "hitl:"  # user attributes hitl writes itself (errors, the rating view's records)


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def check_rating(storage: BaseStorage, trial_id: int, values: Any,
                 widgets: Sequence[dict[str, Any]] | None = None) -> str | None:
    """Why ``values`` may not be stored as the rating of trial ``trial_id``, or ``None`` if it may.

    Refused: a trial that does not exist, is finished (rated or failed already), or was made by
    hitl and is not ready (its output is not stored yet); values that are not a list of finite
    numbers, one per objective; a value outside its slider's range or not one of its choice
    widget's values. The reason is one line a rater can read.

    Args:
        storage: The study's storage.
        trial_id: The trial's id (as the dashboard's API names it, not its number).
        values: The rating, one value per objective (numbers, or strings of numbers as the
            dashboard's API takes them).
        widgets: The study's form widgets (``widgets`` of the ``dashboard:form_widgets:v2``
            study system attribute); read from the storage if ``None``.
    """
    try:
        trial = _rateable(storage, trial_id)
        _check_values(storage, trial, values, widgets)
    except _Refused as refused:
        return str(refused)
    return None


def guard(app: Callable, storage: BaseStorage) -> Callable:
    """Wrap the dashboard's WSGI ``app``: its tell and user-attrs routes validated, then stored here.

    Stored here, not by the dashboard, so a trial rated by someone else between the check and
    the write is a 409 with a reason too, never a 500. Failing a trial by hand stays possible.
    """
    lock = threading.Lock()  # one check-and-write at a time in this process
    widgets: dict[int, list[dict[str, Any]]] = {}  # study -> form widgets, which never change once set

    def guarded(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        match = _ROUTE.match(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        trial_id, route = int(match.group(1)), match.group(2)
        try:
            body = _json_body(environ)
            with lock:
                if route == "tell":
                    _tell(storage, trial_id, body, widgets)
                else:
                    _user_attrs(storage, trial_id, body)
        except _Refused as refused:
            return _answer(start_response, refused.status, {"reason": str(refused)})
        return _answer(start_response, 204, None)

    return guarded


def _tell(storage: BaseStorage, trial_id: int, body: dict[str, Any], cache: dict[int, list[dict[str, Any]]]) -> None:
    state = str(body.get("state", "")).upper()
    if state not in ("COMPLETE", "FAIL"):
        raise _Refused(400, "state must be either 'Complete' or 'Fail'")
    trial = _rateable(storage, trial_id)
    values = None
    if state == "COMPLETE":
        study_id = _study_of(storage, trial_id)
        if study_id not in cache:
            found = _form_widgets(storage, study_id)
            if found is not None:
                cache[study_id] = found
        values = _check_values(storage, trial, body.get("values"), cache.get(study_id))
    _write(trial, lambda: storage.set_trial_state_values(trial_id, TrialState[state], values))


def _user_attrs(storage: BaseStorage, trial_id: int, body: dict[str, Any]) -> None:
    attrs = body.get("user_attrs")
    if not isinstance(attrs, dict) or not attrs:
        raise _Refused(400, "user_attrs must be specified")
    own = sorted(k for k in attrs if str(k).startswith(_OWN_PREFIX))
    if own:
        raise _Refused(403, f"user attribute {own[0]!r} is hitl's own; pick a name that does not start with {_OWN_PREFIX}")
    trial = _rateable(storage, trial_id)
    _write(trial, lambda: [storage.set_trial_user_attr(trial_id, str(k), v) for k, v in attrs.items()])


def _rateable(storage: BaseStorage, trial_id: int) -> FrozenTrial:
    try:
        trial = storage.get_trial(trial_id)
    except KeyError:
        raise _Refused(404, f"trial id {trial_id} does not exist") from None
    if trial.state == TrialState.COMPLETE:
        raise _Refused(409, f"trial {trial.number} was rated already; reload the page")
    if trial.state.is_finished():
        raise _Refused(409, f"trial {trial.number} is {trial.state.name.lower()}ed already; reload the page")
    if READY_ATTR not in trial.system_attrs and LEASE_ATTR in trial.system_attrs:
        raise _Refused(409, f"trial {trial.number} is still being made (its output is not stored yet); "
                            "rate it once its picture shows")
    return trial


def _check_values(storage: BaseStorage, trial: FrozenTrial, values: Any,
                  widgets: Sequence[dict[str, Any]] | None) -> list[float]:
    if widgets is None:
        widgets = _form_widgets(storage, _study_of(storage, trial._trial_id)) or []
    objectives = [w for w in widgets if w.get("type") != "user_attr"]
    expected = len(objectives) or len(storage.get_study_directions(_study_of(storage, trial._trial_id)))
    if not isinstance(values, list):
        raise _Refused(400, "values must be a list of numbers, one per objective")
    if len(values) != expected:
        raise _Refused(400, f"{len(values)} value(s) given; the study rates {expected} objective(s)")
    numbers = []
    for i, value in enumerate(values):
        try:
            number = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise _Refused(400, f"value {i + 1} ({value!r}) is not a finite number")
        numbers.append(number)
    for i, (number, widget) in enumerate(zip(numbers, objectives)):
        if widget.get("type") == "choice":
            allowed = [float(v) for v in widget.get("values", [])]
            if number not in allowed:
                raise _Refused(400, f"value {i + 1} ({number:g}) is not one of the choices' values "
                                    f"({', '.join(f'{v:g}' for v in allowed)})")
        elif widget.get("type") == "slider":
            low, high = float(widget["min"]), float(widget["max"])
            if not low <= number <= high:
                raise _Refused(400, f"value {i + 1} ({number:g}) is outside the slider's range {low:g}..{high:g}")
    return numbers


def _study_of(storage: BaseStorage, trial_id: int) -> int:
    """The id of the study ``trial_id`` belongs to (optuna's storages have no public call for it)."""
    backend = getattr(storage, "_backend", storage)  # optuna wraps RDBStorage in _CachedStorage
    if isinstance(backend, RDBStorage):
        trials = models.TrialModel.__table__
        with backend.engine.connect() as conn:
            found = conn.execute(sqlalchemy.select(trials.c.study_id).where(trials.c.trial_id == trial_id)).scalar()
        if found is not None:
            return int(found)
    else:
        for study in storage.get_all_studies():
            if any(t._trial_id == trial_id for t in storage.get_all_trials(study._study_id, deepcopy=False)):
                return study._study_id
    raise _Refused(404, f"trial id {trial_id} does not exist")


def _form_widgets(storage: BaseStorage, study_id: int) -> list[dict[str, Any]] | None:
    form = storage.get_study_system_attrs(study_id).get(FORM_WIDGETS_KEY)
    return None if not isinstance(form, dict) else list(form.get("widgets", []))


def _write(trial: FrozenTrial, write: Callable[[], Any]) -> None:
    try:
        write()
    except optuna.exceptions.UpdateFinishedTrialError:  # rated elsewhere since the check
        raise _Refused(409, f"trial {trial.number} was rated already; reload the page") from None


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > _MAX_BODY:
        raise _Refused(413, "the request body is too large")
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _Refused(400, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "the request body must be a JSON object")
    return body


def _answer(start_response: Callable, status: int, body: dict[str, Any] | None) -> list[bytes]:
    text = b"" if body is None else json.dumps(body).encode()
    phrase = {204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
              413: "Payload Too Large"}[status]
    headers = [("Content-Length", str(len(text)))] + ([("Content-Type", "application/json")] if body else [])
    start_response(f"{status} {phrase}", headers)
    return [text]
