"""The ``dashboard.*`` and ``raters_per_output`` knobs turned into a served dashboard and rating view."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

import optuna

from hitl._errors import HitlError
from hitl.server._access import Access
from hitl.server._dashboard import EmbeddedDashboard
from hitl.server._rating import BATCH_ATTR
from hitl.server._rating import K_ATTR


__all__ = ["announce", "build_dashboard", "check_rating_knobs"]

_log = logging.getLogger("hitl")


def check_rating_knobs(cfg: Any) -> None:
    """One line naming the key and the fix for each bad rating setting, before anything runs."""
    if cfg.raters_per_output < 1:
        raise HitlError(f"raters_per_output={cfg.raters_per_output}: must be at least 1 (people rating each output)")
    if cfg.dashboard.hold <= 0:
        raise HitlError(f"dashboard.hold={cfg.dashboard.hold}: must be positive seconds")
    if cfg.dashboard.undo_window < 0:
        raise HitlError(f"dashboard.undo_window={cfg.dashboard.undo_window}: must be 0 (no undo) or more seconds")


def build_dashboard(
    cfg: Any, *, storage: optuna.storages.BaseStorage, artifact_store: Any, on_tell: Callable[[], None] | None,
) -> EmbeddedDashboard:
    """The embedded dashboard and rating view the ``dashboard`` config node describes."""
    access = Access(token=cfg.token, rater_tokens=dict(cfg.rater_tokens), admin_token=cfg.admin_token)
    return EmbeddedDashboard(
        storage=storage, artifact_store=artifact_store, host=cfg.host, port=cfg.port, on_tell=on_tell,
        access=access, server=cfg.server, hold=cfg.hold, undo_window=cfg.undo_window,
    )


def announce(study: optuna.Study, *, url: str, dashboard: EmbeddedDashboard | None, batch: int,
             raters_per_output: int) -> None:
    """Store the run's rating settings on the study (the view of any process reads them there) and
    log where to rate: the rating view, then the dashboard."""
    storage, study_id = study._storage, study._study_id
    storage.set_study_system_attr(study_id, BATCH_ATTR, batch)
    storage.set_study_system_attr(study_id, K_ATTR, raters_per_output)
    access = dashboard.access if dashboard is not None else Access()
    view = access.link(f"{url}/rate/studies/{study_id}")
    each = "" if raters_per_output == 1 else f"; each output by {raters_per_output} people"
    _log.info("rate one output at a time at %s (one keypress a rating%s)", view, each)
    if access.rater_tokens:
        for name in access.rater_tokens:
            _log.info("  %s rates at %s", name, f"{url}/rate/studies/{study_id}?token={access.rater_tokens[name]}")
    _log.info("or rate the trials at %s in Optuna Dashboard, to inspect them",
              access.link(f"{url}/dashboard/studies/{study_id}/trials", admin=True))
