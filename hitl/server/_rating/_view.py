"""The rating view's routes: its page and static files, and the JSON API the page calls."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
from pathlib import Path
import re
import threading
import time
from typing import Any

from bottle import Bottle
from bottle import HTTPResponse
from bottle import redirect
from bottle import request
from bottle import response
from bottle import static_file
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial
from optuna_dashboard._form_widget import FORM_WIDGETS_KEY

from hitl.queue._tally import Tally
from hitl.server._rating._holds import Holds
from hitl.server._rating._records import BATCH_ATTR
from hitl.server._rating._records import check_values
from hitl.server._rating._records import K_ATTR
from hitl.server._rating._records import media
from hitl.server._rating._records import RATING_PREFIX
from hitl.server._rating._tells import Conflict
from hitl.server._rating._tells import Ratings


__all__ = ["RatingView"]

_log = logging.getLogger("hitl")
STATIC = Path(__file__).parent / "static"
RATER_ENV = "hitl.rater"  # set by the access check when a rater's own token names them
_NAME = re.compile(r"^[^\x00-\x1f:]{1,40}$")


class RatingView:
    """One output at a time, rated with one keypress, by several people at once.

    Serves ``/rate/...``: the page (``/rate/studies/<id>``), its static files and its API.
    Outputs come from the dashboard's artifact route, so compose this with the dashboard's app.

    Args:
        storage: The storage the studies live in.
        hold: Seconds a rater's hold on an output lasts without renewal.
        undo_window: Seconds a rating stays undoable before its trial is told.
        on_tell: Called after each trial the view tells.
        check: An extra check of a rating, ``(study_id, trial, values) -> reason or None``.
    """

    def __init__(
        self, *, storage: BaseStorage, hold: float = 30.0, undo_window: float = 5.0,
        on_tell: Callable[[], None] | None = None,
        check: Callable[[int, FrozenTrial, list[float]], str | None] | None = None,
    ) -> None:
        self.storage = storage
        self.holds = Holds(storage=storage, seconds=hold)
        self.ratings = Ratings(storage=storage, holds=self.holds, undo_window=undo_window, on_tell=on_tell,
                               check=self._check)
        self._extra_check = check
        self._lock = threading.Lock()
        self._tallies: dict[int, Tally] = {}
        self._seen: dict[int, dict[str, float]] = {}  # study -> client -> last request
        self._crowded: dict[int, int] = {}  # study -> raters last warned about
        self._skipped: dict[str, set[int]] = {}
        self.app = self._routes()

    def around(self, app: Callable) -> Callable:
        """A WSGI app serving ``/rate`` here and every other path with ``app`` (the dashboard)."""

        def composed(environ: dict[str, Any], start_response: Callable) -> Any:
            path = environ.get("PATH_INFO", "")
            target = self.app if path == "/rate" or path.startswith("/rate/") else app
            return target(environ, start_response)

        return composed

    def close(self) -> None:
        """Tell the ratings still in their undo window: none is lost when the server stops."""
        self.ratings.flush()

    def _routes(self) -> Bottle:
        app = Bottle()
        app.route("/rate", "GET", self._index)
        app.route("/rate/", "GET", self._index)
        app.route("/rate/studies/<study_id:int>", "GET", lambda study_id: self._static("index.html"))
        app.route("/rate/static/<name:path>", "GET", self._static)
        app.route("/rate/api/studies/<study_id:int>", "GET", self._form)
        app.route("/rate/api/studies/<study_id:int>/next", "POST", self._next)
        app.route("/rate/api/studies/<study_id:int>/undo", "POST", self._undo)
        app.route("/rate/api/studies/<study_id:int>/trials/<trial_id:int>/<action>", "POST", self._act)
        return app

    def _index(self) -> Any:
        studies = self.storage.get_all_studies()
        if len(studies) == 1:
            redirect(f"/rate/studies/{studies[0]._study_id}")
        links = "".join(f'<li><a href="/rate/studies/{s._study_id}">{_escape(s.study_name)}</a></li>' for s in studies)
        return f"<!doctype html><title>hitl: studies</title><h1>Rate which study?</h1><ul>{links}</ul>"

    def _static(self, name: str) -> Any:
        answer = static_file(name, root=str(STATIC))
        answer.set_header("Cache-Control", "no-cache")
        return answer

    def _form(self, study_id: int) -> dict[str, Any]:
        attrs = self.storage.get_study_system_attrs(study_id)
        form = attrs.get(FORM_WIDGETS_KEY) or {}
        names = attrs.get("study:metric_names") or []
        return {
            "study_name": self.storage.get_study_name_from_id(study_id),
            "questions": names,
            "directions": [d.name.lower() for d in self.storage.get_study_directions(study_id)],
            "widgets": [w for w in form.get("widgets", []) if w.get("type") != "user_attr"],
            "raters_per_output": int(attrs.get(K_ATTR, 1)),
            "batch": attrs.get(BATCH_ATTR),
            "undo_window": self.ratings.undo_window,
            "hold": self.holds.seconds,
            "rater": request.environ.get(RATER_ENV),
        }

    def _next(self, study_id: int) -> dict[str, Any]:
        client, name = self._who()
        return self._hand_out(study_id, client, name, prefer=_int(request.json.get("prefer")))

    def _act(self, study_id: int, trial_id: int, action: str) -> dict[str, Any]:
        client, name = self._who()
        body = request.json or {}
        if action == "hold":
            return {"held": self.holds.renew(trial_id, client)}
        if action == "release":  # the page closed
            self.holds.release(trial_id, client)
            self._seen.get(study_id, {}).pop(client, None)
            return {}
        if action == "skip":
            self.holds.release(trial_id, client)
            self._skipped.setdefault(client, set()).add(trial_id)
            return self._hand_out(study_id, client, name, prefer=_int(body.get("prefer")))
        if action != "rate":
            response.status = 404
            return {"reason": f"no action {action!r}"}
        self._count(study_id, name)
        notice = None
        try:
            self.ratings.rate(study_id, trial_id, client, name, body.get("values"), self._k(study_id))
        except ValueError as exc:
            response.status = 400
            return {"reason": str(exc)}
        except Conflict as exc:
            response.status = 409
            notice = str(exc)
        answer = self._hand_out(study_id, client, name, prefer=_int(body.get("prefer")))
        if notice is not None:
            answer["reason"] = notice
        return answer

    def _undo(self, study_id: int) -> dict[str, Any]:
        client, name = self._who()
        self._count(study_id, name)
        trial_id, message = self.ratings.undo(study_id, client, name)
        answer = self._hand_out(study_id, client, name, prefer=trial_id)
        answer["message"] = message
        return answer

    def _hand_out(self, study_id: int, client: str, name: str, *, prefer: int | None) -> dict[str, Any]:
        k = self._k(study_id)
        pick = self.holds.take(study_id, client, name, k=k, prefer=prefer, skipped=self._skipped.get(client, ()))
        for orphan in pick.orphans:
            self.ratings.tell(orphan, k)
        if pick.trial is None:
            self.ratings.flush()  # nothing to rate: hand the ratings in their undo window to the loop
        else:
            self._skipped.get(client, set()).discard(pick.trial._trial_id)
        return {
            "trial": _trial_json(pick.trial, study_id),
            "hint": _trial_json(pick.hint, study_id),
            "progress": self._progress(study_id, name),
            "notice": self._crowding(study_id, client),
        }

    def _progress(self, study_id: int, name: str) -> dict[str, Any]:
        with self._lock:
            tally = self._tallies.get(study_id)
            if tally is None:
                directions = self.storage.get_study_directions(study_id)
                tally = self._tallies[study_id] = Tally(self.storage, study_id, directions[0] if len(directions) == 1 else None)
            tally.update()
            progress = tally.progress()
        best = None
        if progress.best_number is not None:
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, progress.best_number)
            best = {"number": progress.best_number, "value": progress.best_value,
                    "media": media(self.storage.get_trial(trial_id), study_id)}
        return {"mine": self._count(study_id, name), "rated": progress.rated, "waiting": progress.waiting,
                "best": best}

    def _crowding(self, study_id: int, client: str) -> str | None:
        now = time.time()
        seen = self._seen.setdefault(study_id, {})
        seen[client] = now
        active = sum(1 for t in seen.values() if now - t < self.holds.seconds / 2)  # pages call every hold / 4
        batch = self.storage.get_study_system_attrs(study_id).get(BATCH_ATTR)
        if batch is None or active <= batch:
            self._crowded.pop(study_id, None)
            return None
        if self._crowded.get(study_id, 0) < active:
            self._crowded[study_id] = active
            _log.warning("%d people are rating and batch=%d: some wait for an output; raise batch= to keep "
                         "everyone busy", active, batch)
        return f"{active} people are rating {batch} waiting outputs (batch={batch}): you may wait for one"

    def _count(self, study_id: int, name: str) -> int:
        key = (study_id, name)
        if key not in self.ratings.counts:
            trials = self.storage.get_all_trials(study_id, deepcopy=False)
            self.ratings.counts[key] = sum(1 for t in trials if t.user_attrs.get(RATING_PREFIX + name) is not None)
        return self.ratings.counts[key]

    def _k(self, study_id: int) -> int:
        return int(self.storage.get_study_system_attrs(study_id).get(K_ATTR, 1))

    def _check(self, study_id: int, trial: FrozenTrial, values: list[float]) -> str | None:
        form = self.storage.get_study_system_attrs(study_id).get(FORM_WIDGETS_KEY)
        reason = check_values(form, values)
        if reason is None and self._extra_check is not None:
            reason = self._extra_check(study_id, trial, values)
        return reason

    def _who(self) -> tuple[str, str]:
        body = request.json or {}
        client = str(body.get("client") or "")[:64]
        name = request.environ.get(RATER_ENV) or str(body.get("name") or "").strip()
        if not client or not _NAME.match(name):
            raise HTTPResponse(json.dumps({"reason": "give a client id and your name (1-40 characters, no colon)"}),
                               status=400, headers={"Content-Type": "application/json"})
        return client, name


def _trial_json(trial: FrozenTrial | None, study_id: int) -> dict[str, Any] | None:
    if trial is None:
        return None
    return {"id": trial._trial_id, "number": trial.number, "media": media(trial, study_id), "params": trial.params}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
