"""The run's own knobs checked up front: one line naming the key and the fix, before anything is written."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from typing import Any

from omegaconf import DictConfig
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hitl._errors import HitlError
from hitl._errors import mask_secrets
from hitl._errors import remember_secrets
from hitl.config import HitlConfig
from hitl.server import check_rating_knobs


__all__ = ["check_knobs"]

MAX_BATCH = 1000  # trials awaiting rating at once: more is a typo, and each is rendered up front
MAX_SECONDS = 7 * 24 * 3600.0  # longer pauses overflow the OS's timers, and are typos anyway
MIN_LEASE = 1.0  # a claim renewed every lease / 3 seconds: below a second each renewal is a write storm
_SEED_RANGE = (0, 2**32 - 1)  # what numpy's and optuna's seeds take


def check_knobs(cfg: DictConfig) -> None:
    """Check the knobs hitl itself reads; :class:`HitlError` for the first bad one."""
    _check_resolves(cfg)
    remember_secrets(_get(cfg, "storage", "url"))
    unknown = sorted(set(cfg) - {f.name for f in dataclasses.fields(HitlConfig)})
    if unknown:
        raise HitlError(f"{unknown[0]}: not a hitl setting (added with +?); remove it, or see python run.py --help")
    if not 1 <= cfg.batch <= MAX_BATCH:
        raise HitlError(f"batch={cfg.batch}: must be at least 1 (trials awaiting rating at once) and at most {MAX_BATCH}")
    if cfg.n_trials is not None and not 1 <= cfg.n_trials <= 10**9:
        raise HitlError(f"n_trials={cfg.n_trials}: must be at least 1, or null to run until Ctrl-C")
    if cfg.timeout is not None:
        _seconds("timeout", cfg.timeout, "or null for none")
    _seconds("poll_interval", cfg.poll_interval)
    _seconds("lease", cfg.lease, f"at least {MIN_LEASE:g}", low=MIN_LEASE)
    if cfg.seed is not None and not _SEED_RANGE[0] <= cfg.seed <= _SEED_RANGE[1]:
        raise HitlError(f"seed={cfg.seed}: must be 0..{_SEED_RANGE[1]}, or null for a fresh one each run")
    check_rating_knobs(cfg)
    if not 0 <= cfg.dashboard.port <= 65535:
        raise HitlError(f"dashboard.port={cfg.dashboard.port}: must be 0..65535 (0: any free port)")
    if cfg.dashboard.enabled:
        _check_ipv4(str(cfg.dashboard.host))


def _seconds(key: str, value: float, fix: str = "", *, low: float = 0.0) -> None:
    if not (math.isfinite(value) and value > 0 and value >= low and value <= MAX_SECONDS):
        fix = f"; {fix}" if fix else ""
        raise HitlError(f"{key}={value}: must be positive seconds, at most {MAX_SECONDS:g} (a week){fix}")


def _check_ipv4(host: str) -> None:
    # the embedded dashboard's servers listen on IPv4 only
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if address.version == 6:
        raise HitlError(f"dashboard.host={host}: IPv6 addresses are not supported by the dashboard's server; "
                        "use 127.0.0.1 (this machine) or 0.0.0.0 (every IPv4 address)")


def _check_resolves(cfg: DictConfig) -> None:
    """Every ``${...}`` resolves (an unset environment variable is named with its key), at once."""
    for key in list(cfg.keys()):
        try:
            OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg[key]) else cfg[key]
        except OmegaConfBaseException as exc:
            where = getattr(exc, "full_key", None) or str(key)
            reason = mask_secrets(str(exc).splitlines()[0])
            raise HitlError(f"{where}: cannot be resolved ({reason}); set the variable it names or give a value") from None


def _get(cfg: DictConfig, *path: str) -> Any:
    node: Any = cfg
    for part in path:
        try:
            node = node.get(part) if node is not None else None
        except OmegaConfBaseException:
            return None
    return node
