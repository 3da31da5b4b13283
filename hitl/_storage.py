"""Opening the configured storage, with errors that name the (masked) URL and the fix."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig
from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage

from hitl._errors import HitlError
from hitl._errors import mask_url
from hitl._instantiate import build


def build_storage(node: DictConfig) -> BaseStorage:
    """Instantiate ``storage``; a database that cannot be reached is a :class:`HitlError`."""
    url = node.get("url") if "url" in node else None
    try:
        return build(node, "storage")
    except HitlError as exc:
        if url is None:
            raise
        reason = str(exc).removeprefix("storage: ")
        raise HitlError(
            f"storage.url={mask_url(url)}: cannot open it ({reason}); start the database, "
            "fix the URL or its environment variable (HITL_POSTGRES_URL for storage=postgres)"
        ) from None


def describe_storage(storage: BaseStorage) -> str:
    """Where the data lives, as the plain ``optuna-dashboard`` command takes it, password masked."""
    if isinstance(storage, RDBStorage):
        url = storage.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).absolute()}"
        return mask_url(url)
    if isinstance(storage, JournalStorage):
        backend = storage._backend
        path = getattr(backend, "_file_path", None)
        return str(path) if path is not None else type(backend).__name__
    return "in-memory (gone when this process ends)"
