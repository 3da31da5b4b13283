"""Optuna Dashboard served in-process, on the loop's storage and artifact store."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
import errno
import ipaddress
import logging
import re
import socket
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import make_server
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer

from optuna.artifacts._protocol import ArtifactStore
from optuna.storages import BaseStorage
import optuna_dashboard

from hitl._errors import HitlError
from hitl.server._access import Access
from hitl.server._guard import check_rating
from hitl.server._guard import guard
from hitl.server._rating import RatingView
from hitl.server._compare import ComparisonView
from hitl.server._serve import pick_server
from hitl.server._serve import WaitressServer


__all__ = ["EmbeddedDashboard", "check_host", "fix_empty_json_responses"]

_log = logging.getLogger("hitl")
_TELL = re.compile(r"^/api/trials/\d+/tell/?$|^/api/studies/\d+/preference/?$")  # a rating, or a choice
_PORTS_TRIED = 20


def fix_empty_json_responses(app: Callable, on_tell: Callable[[], None] | None = None) -> Callable:
    """Wrap the dashboard's WSGI app so its UI can read every API answer.

    optuna-dashboard 0.21.0's UI calls ``response.json()`` on every API answer, but the
    API answers a successful tell (and note, user-attr...) with an empty ``204``; the
    parse fails and the UI shows a false "Failed to update trial" alert. This turns such
    answers into ``200`` with the JSON body ``{}``. ``on_tell`` runs after each
    successful tell, so the loop can refill at once.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        state: dict[str, str] = {}

        def patched(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"] = status
            if status.startswith("204") and path.startswith("/api/"):
                status = "200 OK"
                headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-type")]
                headers += [("Content-Type", "application/json"), ("Content-Length", "2")]
            return start_response(status, headers, exc_info)

        body = app(environ, patched)
        status = state.get("status", "")
        if status.startswith("204") and path.startswith("/api/"):
            if hasattr(body, "close"):
                body.close()
            body = [b"{}"]
        if on_tell is not None and status.startswith("2") and _TELL.match(path):
            on_tell()
        return body

    return wrapped


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = False  # server_close() waits for answers in flight
    block_on_close = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("dashboard: " + format, *args)


class EmbeddedDashboard:
    """Optuna Dashboard on a background thread.

    Args:
        storage: The loop's storage.
        artifact_store: The loop's artifact store.
        host: Address to bind; anything but loopback is logged as unauthenticated.
        port: First port to try; the next free one is used if it is taken (0: any free port).
        on_tell: Called after each rating the dashboard or the rating view stores.
        access: Token checks (default: none, for loopback).
        server: ``auto`` (wsgiref on loopback, waitress beyond), ``wsgiref`` or ``waitress``.
        hold: Seconds a rater's hold on an output in the rating view lasts without renewal.
        undo_window: Seconds a rating in the rating view stays undoable before it is told.
    """

    def __init__(
        self,
        *,
        storage: BaseStorage,
        artifact_store: ArtifactStore,
        host: str,
        port: int,
        on_tell: Callable[[], None] | None = None,
        access: Access | None = None,
        server: str = "auto",
        hold: float = 30.0,
        undo_window: float = 5.0,
    ) -> None:
        # ratings are validated and stored by the guard (_guard.py), never 500s or a NaN in the study
        dashboard_app = guard(optuna_dashboard.wsgi(storage, artifact_store=artifact_store), storage)
        app = fix_empty_json_responses(dashboard_app, on_tell)
        # the rating view answers /rate; everything else stays the dashboard's
        self.view = RatingView(storage=storage, hold=hold, undo_window=undo_window, on_tell=on_tell,
                               check=lambda study_id, trial, values: check_rating(storage, trial._trial_id, values))
        self.access = access or Access()
        comparisons = ComparisonView(storage=storage, on_choice=on_tell)  # /rate/studies/<id> of a comparison study
        app = self.access.wrap(comparisons.around(self.view.around(app)))
        self.host = host
        self.server = pick_server(server, loopback=_is_loopback(host))
        self._server = self._bind(app, host, port, self.server)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="hitl-dashboard", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmbeddedDashboard:
        if not _is_loopback(self.host) and not self.access.enabled:
            _log.warning(
                "dashboard.host=%s is reachable from other machines and the dashboard has no "
                "authentication: anyone who reaches it can rate and delete; use 127.0.0.1 unless you mean it",
                self.host,
            )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, after answering the requests in flight."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.view.close()  # ratings still in their undo window are told, not lost

    @staticmethod
    def _bind(app: Callable, host: str, port: int, kind: str = "wsgiref") -> WSGIServer | WaitressServer:
        tries = [port] if port == 0 else range(port, port + _PORTS_TRIED)
        for candidate in tries:
            try:
                if kind == "waitress":
                    server = WaitressServer(app, host, candidate)
                else:
                    server = make_server(host, candidate, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise HitlError(f"dashboard.host={host}: cannot listen there ({exc.strerror}); use 127.0.0.1") from None
                continue
            if candidate != port:
                _log.warning("dashboard.port=%d is taken; serving on port %d instead", port, candidate)
            return server
        raise HitlError(
            f"dashboard.port={port}: ports {port}-{port + _PORTS_TRIED - 1} are all taken; "
            "pick another dashboard.port= or dashboard.enabled=false"
        )


def check_host(host: str) -> None:
    """Fail on an address that cannot be bound, before anything is written."""
    try:
        family = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
    except (OSError, UnicodeError):
        raise HitlError(f"dashboard.host={host}: not an address of this machine; use 127.0.0.1") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback  # 127.1 is 127.0.0.1
    except (OSError, UnicodeError, ValueError):
        return False
