"""One error type for everything a user can fix, and URL masking for messages."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse

from optuna.exceptions import StorageInternalError
import sqlalchemy.engine
import sqlalchemy.exc


__all__ = ["HitlError", "TRANSIENT_ERRORS", "mask_secrets", "mask_url", "one_line", "remember_secrets"]

# What a database or dashboard that is restarting raises: worth a retry, not a crash.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    StorageInternalError,
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
)

# scheme://user:password@host -> scheme://user:***@host, in any text (a password holding a space is
# masked whole only once remember_secrets has parsed its URL).
# Hydra escapes ':' in the overrides it logs and saves (``postgresql\://user\:pw@host``): match that too
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*\\?://[^:/@\s]*\\?:)(?P<pw>[^@\s]+)(?P<tail>@)")
# ...?password=secret&... (the query form SQLAlchemy's drivers take)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pwd)\\?=)(?P<pw>[^&\s'\"]+)", re.IGNORECASE)
_SECRETS: set[str] = set()  # passwords of the URLs this process was given, in the forms text may show them
_SECRETS_LOCK = threading.Lock()
_HYDRA_ESCAPED = "\\()[]{}:=, "


class HitlError(Exception):
    """A problem the user can fix: its message names the config key and the fix.

    The command line prints it as one line and exits with status 2, so its message
    must never carry a password (see :func:`mask_url`).
    """


def remember_secrets(url: object) -> None:
    """Parse ``url`` as SQLAlchemy does and mask its passwords in every later text, in any form.

    The password of ``user:password@``, and of a ``?password=`` query (with a space, an ``@``,
    %-escaped or as Hydra escapes it in overrides) are then masked by :func:`mask_secrets`
    wherever they appear, also where no pattern would find them.
    """
    if not isinstance(url, str) or "://" not in url:
        return
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except Exception:  # noqa: BLE001 - not a database URL: the patterns still apply
        return
    found = [parsed.password] + [
        v for k, vs in parsed.query.items() if k.lower() in ("password", "passwd", "pwd")
        for v in ((vs,) if isinstance(vs, str) else vs)
    ]
    with _SECRETS_LOCK:
        for secret in found:
            if secret is None or len(str(secret)) < 3:
                continue  # too short to mask without masking everything else
            secret = str(secret)
            escaped = "".join("\\" + c if c in _HYDRA_ESCAPED else c for c in secret)
            _SECRETS.update({secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), escaped})


def mask_url(url: object) -> str:
    """Return ``url`` as text with any password replaced by ``***``."""
    remember_secrets(url)
    return mask_secrets(str(url))


def mask_secrets(text: str) -> str:
    """Replace every password in ``text`` by ``***``: those :func:`remember_secrets` was given, a
    ``user:password@`` and a ``?password=`` query."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)
    return _QUERY_PASSWORD.sub(r"\g<head>***", text)


def one_line(exc: BaseException) -> str:
    """``exc`` as one line for a message: its type and the first line of its text, secrets masked."""
    text = str(exc).strip().splitlines()
    return mask_secrets(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)
