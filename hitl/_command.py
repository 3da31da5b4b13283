"""The ``hitl`` command and ``python -m hitl``: the same as ``python run.py`` in a clone.

The configs are the installed package's (``pkg://hitl.conf``); ``hydra.searchpath`` and the
``hitl`` search-path plugin add a user's own folders as for any Hydra app.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig


__all__ = ["command"]


@hydra.main(version_base="1.3", config_path="pkg://hitl.conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    from hitl.app import main  # noqa: PLC0415 - after Hydra has parsed the command line

    main(cfg)


def command() -> None:
    """Run hitl: ``hitl [group=option ...] [key=value ...]``; ``hitl --help`` lists them."""
    from hitl.config import check_overrides  # noqa: PLC0415 - keeps ``import hitl`` light
    from hitl.config import register_configs  # noqa: PLC0415

    register_configs()
    check_overrides(sys.argv[1:], config_module="hitl.conf")  # a typo: one line, exit 2
    _app()
