"""The WSGI servers the dashboard runs on: wsgiref on loopback, waitress for other machines."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from hitl._errors import HitlError


__all__ = ["WaitressServer", "pick_server"]

_log = logging.getLogger("hitl")


def pick_server(server: str, *, loopback: bool) -> str:
    """``wsgiref`` or ``waitress`` for the ``dashboard.server`` setting (``auto``: waitress beyond loopback).

    waitress: pure Python (nothing to compile, runs wherever hitl does, Windows included), made
    for serving the open network (it buffers slow clients' requests and answers before a worker
    thread sees them, limits request sizes, and has no debug features to expose), and it runs
    in-process on a thread pool, so the loop's ``on_tell`` wakeup and the study objects stay
    shared. gunicorn would need a process of its own (and is Unix only); wsgiref is a
    development server, kept on loopback where one person rates.
    """
    if server not in ("auto", "wsgiref", "waitress"):
        raise HitlError(f"dashboard.server={server}: use auto, wsgiref or waitress")
    if server == "auto":
        return "wsgiref" if loopback else "waitress"
    return server


class WaitressServer:
    """waitress serving ``app`` on ``host:port`` from a background thread, stoppable.

    Raises ``OSError`` as a socket bind does when the port is taken.
    """

    def __init__(self, app: Callable, host: str, port: int, threads: int = 8) -> None:
        try:
            import waitress.server
        except ImportError:
            raise HitlError("dashboard.server=waitress needs waitress: pip install waitress") from None
        self._server: Any = waitress.server.create_server(
            app, host=host, port=port, threads=threads, ident="hitl", clear_untrusted_proxy_headers=True,
        )
        self.server_address = (host, self._server.effective_port)

    def serve_forever(self) -> None:
        self._server.run()

    def shutdown(self) -> None:
        """Stop accepting, let the requests in flight finish (up to 5 s), then close every connection."""
        self._server.accepting = False
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        logging.getLogger("waitress").setLevel(logging.ERROR)  # closing idle keep-alive sockets is not news
        while self._server._map:
            for channel in list(self._server._map.values()):
                channel.handle_close()
        self._server.maintenance(0)

    def server_close(self) -> None:
        pass  # shutdown() closed the listening socket with the rest
