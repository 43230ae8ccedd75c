"""Serving the review app with the standard library: wsgiref, one thread per request."""

from __future__ import annotations

import logging
import socket
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from wirewatch.settings import Settings
from wirewatch.web.app import ReviewApp

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    # A slow request (a big cluster page) must not hold up the next; threads die with the server.
    daemon_threads = True
    allow_reuse_address = True


class _ThreadingServerV6(_ThreadingServer):
    address_family = socket.AF_INET6


class _LoggingHandler(WSGIRequestHandler):
    """Access lines go to logging, not to stderr of whoever started the server."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


def make_review_server(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> WSGIServer:
    """Bind first (port 0 picks a free one), then build the app for the port actually bound."""
    server_class = _ThreadingServerV6 if ":" in host else _ThreadingServer
    server = make_server(host, port, _placeholder, server_class=server_class, handler_class=_LoggingHandler)
    bound_port = server.server_address[1]
    server.set_app(ReviewApp(settings, host=host, port=bound_port))
    return server


def _placeholder(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
