"""hitl: human-in-the-loop optimization on Optuna and Optuna Dashboard, configured with Hydra.

The public names are imported on first use: ``import hitl`` stays cheap, so Hydra can read the
packaged configs (``pkg://hitl.conf``) in any app without loading Optuna.
"""

from __future__ import annotations

import importlib
from typing import Any
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from hitl._errors import HitlError
    from hitl.app import main
    from hitl.app import run
    from hitl.app import Summary
    from hitl.config import check_overrides
    from hitl.config import register_configs
    from hitl.queue import Loop
    from hitl.queue import Progress
    from hitl.server import Objective
    from hitl.server import WidgetSet


_WHERE = {
    "HitlError": "hitl._errors",
    "Loop": "hitl.queue",
    "Objective": "hitl.server",
    "Progress": "hitl.queue",
    "Summary": "hitl.app",
    "WidgetSet": "hitl.server",
    "check_overrides": "hitl.config",
    "main": "hitl.app",
    "register_configs": "hitl.config",
    "run": "hitl.app",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hitl' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
