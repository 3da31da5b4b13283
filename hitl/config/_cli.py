"""The command line's first look at the overrides: a config error is one line and exit status 2.

Hydra reports a typo in a key, a wrong type or an unknown option over several lines, with
exit status 1, once it has set up the run. :func:`check_overrides` composes the config the
way ``python run.py`` will, before Hydra does, and turns such an error into one line naming
the key and the fix, like every other error of hitl's. Runs with flags (``--help``,
``--cfg``, ``-m``...) are left to Hydra.
"""

from __future__ import annotations

from collections.abc import Sequence
import contextlib
import dataclasses
import difflib
import io
from pathlib import Path
import sys

from hydra import compose
from hydra import initialize_config_dir
from hydra import initialize_config_module
from hydra.errors import HydraException
from hydra.errors import MissingConfigException
from omegaconf.errors import OmegaConfBaseException

from hitl._errors import mask_secrets
from hitl._errors import remember_secrets


__all__ = ["check_overrides", "describe_config_error"]


def check_overrides(argv: Sequence[str], *, config_dir: Path | None = None, config_module: str | None = None,
                    config_name: str = "config") -> None:
    """Compose ``config_name`` with the overrides in ``argv``; on an error print one line and exit 2.

    Args:
        argv: The command line's arguments after the program.
        config_dir: The app's config folder (``run.py``'s ``conf/``, or your own app's).
        config_module: Or the config package, e.g. ``hitl.conf`` for the ``hitl`` command.
        config_name: The primary config.
    """
    if any(arg.startswith("-") for arg in argv):
        _check_flags(argv)
        return
    if config_module is not None:
        init = initialize_config_module(config_module=config_module, version_base="1.3")
    else:
        init = initialize_config_dir(config_dir=str(config_dir), version_base="1.3")
    try:
        with init:
            cfg = compose(config_name=config_name, overrides=list(argv))
    except (HydraException, OmegaConfBaseException) as exc:
        print(f"error: {describe_config_error(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    added = sorted(set(cfg) - _knobs())
    if added:  # +batchh=3 composes, but hitl would never read it
        print(f"error: {_not_a_knob(added[0])}", file=sys.stderr)
        raise SystemExit(2)


def _check_flags(argv: Sequence[str]) -> None:
    """Parse the flags as Hydra will; its refusal would print the overrides it did not take, passwords too."""
    from hydra._internal.utils import get_args_parser  # noqa: PLC0415 - Hydra's own parser, so the same refusals

    for arg in argv:  # a URL typed as an override: its password in every form
        if "://" in arg:
            remember_secrets(arg.split("=", 1)[-1].strip("'\""))
    refusal = io.StringIO()
    try:
        with contextlib.redirect_stderr(refusal), contextlib.redirect_stdout(io.StringIO()):
            get_args_parser().parse_args(list(argv))
    except SystemExit as exc:
        if exc.code in (0, None):  # --version and the like: Hydra prints them itself
            return
        lines = refusal.getvalue().strip().splitlines() or ["the command line is not understood"]
        reason = lines[-1].split("error: ", 1)[-1]
        print(f"error: {mask_secrets(reason)}; flags (-m, --cfg job, ...) go before the overrides, "
              "e.g. python run.py -m key=a,b (python run.py --help lists them)", file=sys.stderr)
        raise SystemExit(2) from None


def describe_config_error(exc: BaseException) -> str:
    """One line for a Hydra or OmegaConf composition error: what is wrong, and what to do."""
    if isinstance(exc, MissingConfigException) and exc.options:
        wanted = (exc.missing_cfg_file or "").replace("/", "=", 1)
        return f"{wanted}: no such option; pick one of {', '.join(sorted(exc.options))} (python run.py --help lists them)"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = exc.__cause__
    reason = str(cause).splitlines()[0].strip() if cause is not None and str(cause).strip() else ""
    head = lines[0] if lines else type(exc).__name__
    key = _quoted(head)
    if head.startswith("Could not override") and key is not None:
        fix = next((line for line in lines[1:] if line.startswith("To append")), "")
        if "default list" in fix:  # experiment=tutorial: a group the defaults list does not hold
            return f"{key}: options of this group are added, not swapped: use {fix.split()[-1]}"
        if "." not in key:  # a top-level key: hitl's knobs are fixed, so appending it would do nothing
            return _not_a_knob(key)
        hint = f"; {fix[0].lower()}{fix[1:]}" if fix else ""
        why = f" ({reason})" if reason else ""
        return mask_secrets(f"{key}: not a setting here{why}; check its spelling in python run.py --help{hint}")
    if head.startswith("Error merging override"):
        override = head.removeprefix("Error merging override").strip()
        return mask_secrets(f"{override}: {reason or 'cannot be merged'}; see python run.py --help for its type")
    return mask_secrets(f"{head}{f' ({reason})' if reason else ''}")


def _knobs() -> set[str]:
    from hitl.config._schema import HitlConfig  # noqa: PLC0415 - the schema, not the builders

    return {f.name for f in dataclasses.fields(HitlConfig)}


def _not_a_knob(key: str) -> str:
    near = difflib.get_close_matches(key, sorted(_knobs()), n=1)
    hint = f"did you mean {near[0]}? " if near else ""
    return f"{key}: not a hitl setting; {hint}python run.py --help lists them"


def _quoted(text: str) -> str | None:
    start = text.find("'")
    end = text.find("'", start + 1)
    return text[start + 1:end] if 0 <= start < end else None
