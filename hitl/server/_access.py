"""Who may reach what: raters' tokens for the rating view, an admin token for the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
import hmac
from http.cookies import SimpleCookie
import secrets
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

from hitl._errors import HitlError
from hitl.server._rating import RATER_ENV


__all__ = ["Access"]

COOKIE = "hitl_token"


class Access:
    """Token checks in front of the rating view and the dashboard.

    With no token configured everything is open, as the plain dashboard is (then bind loopback
    only). With a token, every page and API answers 401 without one and 403 with a wrong one:
    the rating view (``/rate``) and the outputs it shows (``GET /artifacts/``) take a rater's
    token or the admin token; everything else (the dashboard's pages, its API, deleting and
    failing trials) takes the admin token only.

    A token is given once in the link (``?token=...``); the answer sets it as a cookie and
    drops it from the address. Scripts may send ``Authorization: Bearer <token>`` instead.

    Args:
        token: The raters' shared token; ``"auto"`` makes a random one.
        rater_tokens: A personal token per rater name: that rater's ratings carry that name.
        admin_token: The dashboard's token; ``None`` with rater tokens on makes a random one.
    """

    def __init__(self, *, token: str | None = None, rater_tokens: Mapping[str, str] | None = None,
                 admin_token: str | None = None) -> None:
        self.token = secrets.token_urlsafe(16) if token == "auto" else token
        self.rater_tokens = dict(rater_tokens or {})
        on = self.token is not None or bool(self.rater_tokens) or admin_token is not None
        self.admin_token = admin_token if admin_token is not None or not on else secrets.token_urlsafe(16)
        for name, value in [("token", self.token), ("admin_token", self.admin_token), *self.rater_tokens.items()]:
            if value is not None and len(value) < 8:
                raise HitlError(f"dashboard: the token of {name} is shorter than 8 characters; use a long random one "
                                "(or token=auto)")

    @property
    def enabled(self) -> bool:
        return self.admin_token is not None

    def link(self, url: str, *, admin: bool = False) -> str:
        """``url`` with the token to open it with (the shared raters' one, or the admin one)."""
        token = self.admin_token if admin else (self.token or self.admin_token)
        return url if token is None else f"{url}?token={token}"

    def wrap(self, app: Callable) -> Callable:
        """The WSGI ``app`` behind these checks."""
        if not self.enabled:
            return app

        def checked(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
            query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
            given = query.get("token") or _bearer(environ) or _cookie(environ)
            path = environ.get("PATH_INFO", "")
            for_raters = path == "/rate" or path.startswith("/rate/") or (
                environ.get("REQUEST_METHOD") == "GET" and path.startswith("/artifacts/"))
            if not given:
                return _refuse(start_response, "401 Unauthorized", "open the link hitl printed: it carries the token")
            role = self._role(given)
            if role is None or (role != "admin" and not for_raters):
                return _refuse(start_response, "403 Forbidden", "this token does not open this page")
            if role not in ("admin", "rater"):
                environ[RATER_ENV] = role  # a personal token names its rater
            if "token" in query and environ.get("REQUEST_METHOD") == "GET":  # keep it in a cookie, not the address
                rest = urlencode([(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k != "token"])
                start_response("303 See Other", [
                    ("Location", path + (f"?{rest}" if rest else "")),
                    ("Set-Cookie", f"{COOKIE}={given}; Path=/; HttpOnly; SameSite=Strict"),
                    ("Content-Length", "0"),
                ])
                return [b""]
            return app(environ, start_response)

        return checked

    def _role(self, given: str) -> str | None:
        """``admin``, ``rater`` (shared token), a rater's name, or ``None``."""
        if self.admin_token is not None and hmac.compare_digest(given, self.admin_token):
            return "admin"
        if self.token is not None and hmac.compare_digest(given, self.token):
            return "rater"
        for name, token in self.rater_tokens.items():
            if hmac.compare_digest(given, token):
                return name
        return None


def _bearer(environ: dict[str, Any]) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _cookie(environ: dict[str, Any]) -> str | None:
    morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(COOKIE)
    return morsel.value if morsel is not None else None


def _refuse(start_response: Callable, status: str, reason: str) -> list[bytes]:
    body = ('{"reason": "%s"}' % reason).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
