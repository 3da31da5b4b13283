"""The structured schema of hitl's own knobs, so a typo fails when Hydra composes."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Dict
from typing import Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


__all__ = ["DashboardConfig", "HitlConfig", "ModeConfig", "register_configs"]


@dataclass
class DashboardConfig:
    """The embedded Optuna Dashboard."""

    enabled: bool = True
    host: str = "127.0.0.1"  # loopback: the dashboard has no authentication
    port: int = 8080  # taken? the next free one is used and logged
    token: Optional[str] = None  # raters' shared token (auto: a random one, in the logged link); null: no tokens
    rater_tokens: Dict[str, str] = field(default_factory=dict)  # a personal token per rater name
    admin_token: Optional[str] = None  # the dashboard's own pages; with tokens on and this null: a random one, logged
    server: str = "auto"  # auto (wsgiref on loopback, waitress beyond), wsgiref or waitress
    hold: float = 30.0  # seconds a rater keeps an output in the rating view without looking at it
    undo_window: float = 5.0  # seconds a rating in the rating view stays undoable before the sampler gets it


@dataclass
class ModeConfig:
    """How people judge the outputs: ``rating`` one at a time, or ``preferential`` comparisons."""

    name: str = "rating"  # rating or preferential
    study_suffix: str = ""  # added to the study's name, so the two modes never share a study


@dataclass
class HitlConfig:
    """Top-level knobs; the five groups stay free-form ``_target_`` nodes."""

    study_name: str = "sunset-${widget.name}${mode.study_suffix}${evaluator.study_suffix}"
    question: str = "Looks like sunset color?"  # the objective's name: what the person is asked
    batch: int = 4  # trials awaiting rating at once
    n_trials: Optional[int] = None  # stop once the study holds this many ratings
    timeout: Optional[float] = None  # seconds this run may last
    seed: Optional[int] = None
    poll_interval: float = 0.5  # seconds between storage checks for ratings made elsewhere
    raters_per_output: int = 1  # people who rate each output in the rating view; the sampler gets their median
    lease: float = 30.0  # seconds a worker's claim on the trial it is making lasts without a heartbeat
    results: bool = True  # contact sheet and plots into the run's output folder when it stops
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    mode: ModeConfig = field(default_factory=ModeConfig)
    sampler: Any = MISSING
    widget: Any = MISSING
    storage: Any = MISSING
    generator: Any = MISSING
    artifacts: Any = MISSING
    evaluator: Any = MISSING


def register_configs() -> None:
    """Register the schema as ``hitl_schema``, the first entry of ``conf/config.yaml``."""
    ConfigStore.instance().store(name="hitl_schema", node=HitlConfig)
