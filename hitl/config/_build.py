"""Hydra instantiation that turns any failure into a one-line :class:`HitlError`."""

from __future__ import annotations

from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from hitl._errors import HitlError
from hitl._errors import mask_secrets


def build(node: DictConfig, key: str, **kwargs: Any) -> Any:
    """Instantiate the config node at ``key``, naming ``key`` in any error.

    Hydra wraps constructor errors in ``InstantiationException`` with a multi-line
    message; users want the cause and the key to fix instead.
    """
    try:
        return instantiate(node, _convert_="all", **kwargs)
    except HitlError:
        raise
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, HitlError):
            raise cause from None
        missing = _missing_module(cause)
        if missing is not None:
            target = node.get("_target_", "?") if isinstance(node, DictConfig) else "?"
            raise HitlError(f"{key}._target_={target}: cannot import it ({missing}); make its module importable: "
                            "run from the folder that holds it, pip install its package, or add the folder to "
                            "PYTHONPATH") from exc
        reason = _first_line(cause if cause is not None else exc)
        raise HitlError(f"{key}: {reason} (check the {key}.* settings or pick another {key}= option)") from exc
    except Exception as exc:  # a bad _target_ or argument type fails here before construction
        raise HitlError(f"{key}: {_first_line(exc)} (check the {key}.* settings)") from exc


def _missing_module(cause: BaseException | None) -> str | None:
    """The import error under Hydra's "Error loading" (whose first line drops it), if that was the failure."""
    if isinstance(cause, ImportError) and str(cause).startswith("Error loading"):
        inner = cause.__cause__
        return _first_line(inner) if inner is not None else _first_line(cause)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return mask_secrets(text.splitlines()[0])
