"""The comparison view's routes: ``/rate/studies/<id>`` of a comparison study, and its API."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import re
from typing import Any

from bottle import Bottle
from bottle import HTTPResponse
from bottle import request
from bottle import static_file
from optuna.storages import BaseStorage
from optuna.trial import TrialState
from optuna_dashboard._preferential_history import NewHistory
from optuna_dashboard._preferential_history import report_history

from hitl.queue import READY_ATTR
from hitl.queue._claim import study_lock
from hitl.queue._compare import Comparisons
from hitl.queue._compare import PREFERENTIAL_ATTR
from hitl.server._rating._records import media
from hitl.server._rating._view import RATER_ENV


__all__ = ["ComparisonView"]

STATIC = Path(__file__).resolve().parent / "static"
CHOOSER_ATTR = "hitl:chooser:"  # study system attr + preference id: who made that choice
_PAGE = re.compile(r"^/rate/studies/(\d+)/?$")
_MINE = re.compile(r"^/rate/(compare/|api/studies/\d+/(candidates|choose)$)")


class ComparisonView:
    """For comparison studies (``mode=preferential``): every candidate at once, "which is the worst?".

    The choice is recorded as optuna-dashboard's own page records it (``ChooseWorst``: the others
    preferred to it), so the dashboard, the samplers and ``should_generate`` see it alike; the
    chooser's name is kept beside it. A choice over candidates that changed meanwhile (another
    person chose first) is answered ``409`` with the current ones.

    Args:
        storage: The storage the studies live in.
        on_choice: Called after each choice (wakes the loop to refill).
    """

    def __init__(self, *, storage: BaseStorage, on_choice: Callable[[], None] | None = None) -> None:
        self.storage = storage
        self.on_choice = on_choice
        self.app = self._routes()

    def around(self, app: Callable) -> Callable:
        """A WSGI app serving the comparison view here and everything else with ``app``."""

        def composed(environ: dict[str, Any], start_response: Callable) -> Any:
            path = environ.get("PATH_INFO", "")
            page = _PAGE.match(path)
            mine = _MINE.match(path) or (page and environ.get("REQUEST_METHOD") == "GET"
                                         and self._comparing(int(page.group(1))))
            return (self.app if mine else app)(environ, start_response)

        return composed

    def _comparing(self, study_id: int) -> bool:
        try:
            return bool(self.storage.get_study_system_attrs(study_id).get(PREFERENTIAL_ATTR))
        except KeyError:
            return False

    def _routes(self) -> Bottle:
        app = Bottle()
        app.route("/rate/studies/<study_id:int>", "GET", lambda study_id: self._static("compare.html"))
        app.route("/rate/studies/<study_id:int>/", "GET", lambda study_id: self._static("compare.html"))
        app.route("/rate/compare/<name:path>", "GET", self._static)
        app.route("/rate/api/studies/<study_id:int>/candidates", "GET", self._candidates)
        app.route("/rate/api/studies/<study_id:int>/choose", "POST", self._choose)
        return app

    def _static(self, name: str) -> Any:
        answer = static_file(name, root=str(STATIC))
        answer.set_header("Cache-Control", "no-cache")
        return answer

    def _candidates(self, study_id: int) -> dict[str, Any]:
        attrs = self.storage.get_study_system_attrs(study_id)  # before the trials, as the dashboard reads them
        comparisons = Comparisons.of(attrs)
        trials = self.storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING, TrialState.COMPLETE))
        worse = comparisons.worse
        shown = sorted((t for t in trials if READY_ATTR in t.system_attrs and t.number not in worse
                        and t._trial_id not in comparisons.skipped_ids), key=lambda t: t.number)
        return {
            "study_name": self.storage.get_study_name_from_id(study_id),
            "batch": attrs.get("preference:n_generate"),
            "choices": len(comparisons.choices),
            "candidates": [{"id": t._trial_id, "number": t.number, "media": media(t, study_id)} for t in shown],
            "rater": request.environ.get(RATER_ENV),
        }

    def _choose(self, study_id: int) -> dict[str, Any]:
        body = request.json or {}
        name = request.environ.get(RATER_ENV) or str(body.get("name") or "").strip()[:40]
        shown, worst = body.get("candidates"), body.get("worst")
        if not isinstance(shown, list) or not all(isinstance(n, int) for n in shown) or worst not in shown:
            raise _answer(400, {"reason": "give candidates (trial numbers) and worst, one of them"})
        with study_lock(self.storage, study_id):  # two people choosing over the same outputs: one is first
            now = self._candidates(study_id)
            if sorted(shown) != [c["number"] for c in now["candidates"]]:
                raise _answer(409, {"reason": "the outputs changed meanwhile (someone chose first): here they are now",
                                    **now})
            preference_id = report_history(study_id, self.storage,
                                           NewHistory(mode="ChooseWorst", candidates=sorted(shown), clicked=worst))
        if name:
            self.storage.set_study_system_attr(study_id, CHOOSER_ATTR + preference_id, name)
        if self.on_choice is not None:
            self.on_choice()
        return {"chosen": worst}


def _answer(status: int, body: dict[str, Any]) -> HTTPResponse:
    return HTTPResponse(json.dumps(body), status=status, headers={"Content-Type": "application/json"})
