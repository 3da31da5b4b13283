"""The command line's entry: :func:`run` with one-line errors, exit statuses and scrubbed saved configs."""

from __future__ import annotations

from pathlib import Path
import shutil
import sys

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from hitl._errors import HitlError
from hitl._errors import remember_secrets
from hitl.app._run import run
from hitl.app._summary import Summary
from hitl.config import scrub_saved_configs


__all__ = ["main"]


def main(cfg: DictConfig) -> Summary | None:
    """:func:`run` for the command line: a :class:`HitlError` becomes one line and exit status 2."""
    _remember_storage_password(cfg)  # so the saved configs and every line below are masked
    if HydraConfig.initialized():
        hc = HydraConfig.get()
        if hc.output_subdir is not None:
            scrub_saved_configs(Path(hc.runtime.output_dir) / hc.output_subdir)
        if hc.mode == RunMode.MULTIRUN:
            scrub_saved_configs(Path(hc.sweep.dir))  # the sweep's multirun.yaml
    try:
        return run(cfg)
    except HitlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not getattr(exc, "after_start", False):
            _remove_run_folder()
        raise SystemExit(2) from None
    except KeyboardInterrupt:  # the second Ctrl-C: a traceback would say nothing more
        print("stopped at once: a trial being made is repaired by a later run once its lease has run out",
              file=sys.stderr)
        raise SystemExit(130) from None


def _remember_storage_password(cfg: DictConfig) -> None:
    try:
        remember_secrets(cfg.storage.get("url"))
    except Exception:  # noqa: BLE001 - an unresolvable URL is reported by run() as one line
        pass


def _remove_run_folder() -> None:
    """A run refused for bad input leaves no trace: Hydra's folder for it goes too."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.RUN:
        return
    folder = Path(HydraConfig.get().runtime.output_dir)
    if not folder.is_dir():
        return
    shutil.rmtree(folder, ignore_errors=True)
    for parent in folder.parents:  # outputs/<date>/ and outputs/ when left empty
        if parent == Path.cwd() or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()
