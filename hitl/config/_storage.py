"""Opening the configured storage, with errors that name the (masked) URL and the fix."""

from __future__ import annotations

from pathlib import Path
import time

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig
from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages import RDBStorage
import sqlalchemy.exc

from hitl._errors import HitlError
from hitl._errors import mask_secrets
from hitl._errors import mask_url
from hitl._errors import remember_secrets
from hitl.config._files import check_sqlite_url
from hitl.config._files import disk_full
from hitl.config._files import full_storage_message
from hitl.queue._journal import harden_journal


def build_storage(node: DictConfig) -> BaseStorage:
    """Instantiate ``storage``; a database that cannot be reached is a :class:`HitlError`.

    Several workers starting at once on a new database all try to create optuna's tables;
    the losers of that race see "already exists" errors and simply try again.
    """
    url = node.get("url") if "url" in node else None
    remember_secrets(url)
    if isinstance(url, str):
        check_sqlite_url(url)  # before optuna creates its tables in a file that is not its own
    for attempt in range(_INIT_ATTEMPTS):
        try:
            storage = instantiate(node, _convert_="all")
            harden_journal(storage)  # a killed worker leaves no lock that stalls the others
            return storage
        except Exception as exc:  # noqa: BLE001 - turned into one line below
            cause = exc.__cause__ if isinstance(exc, InstantiationException) and exc.__cause__ else exc
            if isinstance(cause, HitlError):
                raise cause from None
            if _lost_init_race(cause) and attempt + 1 < _INIT_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise HitlError(_message(url, cause)) from None
    raise AssertionError("unreachable")


def _lost_init_race(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, sqlalchemy.exc.SQLAlchemyError) and (
        "already exists" in text or "duplicate key" in text or "UNIQUE constraint failed" in text
    )


def _message(url: str | None, exc: BaseException) -> str:
    reason = mask_secrets((str(exc).strip() or type(exc).__name__).splitlines()[0])
    if disk_full(exc):
        return full_storage_message(url, exc)
    if url is None:
        return f"storage: {reason} (check the storage.* settings)"
    if "Failed to import DB access module" in reason or isinstance(exc, ModuleNotFoundError):
        # SQLAlchemy 2.1 reads postgresql:// as postgresql+psycopg (3), not the psycopg2 hitl installs
        missing = next((e.name for e in (exc, exc.__cause__, exc.__context__) if isinstance(e, ModuleNotFoundError)), None)
        package = _DRIVERS.get(str(missing).split(".")[0], missing)
        return (f"storage.url={mask_url(url)}: its database driver{f' ({missing})' if missing else ''} is not "
                f"installed; pip install {package or 'the driver the URL names'}, or name an installed one in the "
                "URL (postgresql+psycopg2://... for PostgreSQL)")
    return (f"storage.url={mask_url(url)}: cannot open it ({reason}); start the database, "
            "fix the URL or its environment variable (HITL_POSTGRES_URL for storage=postgres)")


_INIT_ATTEMPTS = 10
_DRIVERS = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "pymysql": "pymysql", "MySQLdb": "mysqlclient"}


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
        return str(Path(path).absolute()) if path is not None else type(backend).__name__
    return "in-memory (gone when this process ends)"
