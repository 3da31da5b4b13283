"""One error type for everything a user can fix, and URL masking for messages."""

from __future__ import annotations

import re
import urllib.error

from optuna.exceptions import StorageInternalError
import sqlalchemy.exc


__all__ = ["HitlError", "TRANSIENT_ERRORS", "mask_secrets", "mask_url", "one_line"]

# What a database or dashboard that is restarting raises: worth a retry, not a crash.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    StorageInternalError,
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
)

# scheme://user:password@host -> scheme://user:***@host, in any text.
# Hydra escapes ':' in the overrides it logs and saves (``postgresql\://user\:pw@host``): match that too
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*\\?://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<tail>@)")


class HitlError(Exception):
    """A problem the user can fix: its message names the config key and the fix.

    The command line prints it as one line and exits with status 2, so its message
    must never carry a password (see :func:`mask_url`).
    """


def mask_url(url: object) -> str:
    """Return ``url`` as text with any password replaced by ``***``."""
    return mask_secrets(str(url))


def mask_secrets(text: str) -> str:
    """Replace every ``user:password@`` in ``text`` by ``user:***@``."""
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", text)


def one_line(exc: BaseException) -> str:
    """``exc`` as one line for a message: its type and the first line of its text, secrets masked."""
    text = str(exc).strip().splitlines()
    return mask_secrets(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)
