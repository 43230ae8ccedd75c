"""Serve the bundled demo corpus on loopback, as an HTTP proxy for its fictional host.

The demo's feeds and pages name http://demo.wirewatch.invalid/...; the fetcher is pointed at this
server as its proxy, so article URLs stay the same from run to run whatever port is free.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from wirewatch.settings import DEMO_BASE_URL, Settings

_TYPES = {".xml": "application/xml; charset=utf-8", ".html": "text/html; charset=utf-8"}


def demo_root() -> Path:
    return Path(str(resources.files("wirewatch.demo")))


class _DemoHandler(BaseHTTPRequestHandler):
    server_version = "wirewatch-demo"
    root: Path

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path.lstrip("/")
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents or not target.is_file() or target.suffix not in _TYPES:
            self.send_error(404)
            return
        body = target.read_text(encoding="utf-8").replace("${BASE_URL}", DEMO_BASE_URL).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", _TYPES[target.suffix])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", formatdate(target.stat().st_mtime, usegmt=True))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the pipeline logs what it fetched


@contextmanager
def serve_demo(root: Path | None = None) -> Iterator[str]:
    """Run the demo server on a free loopback port; yields its proxy URL."""
    handler = type("DemoHandler", (_DemoHandler,), {"root": root or demo_root()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def demo_settings(settings: Settings) -> Iterator[Settings]:
    """The settings as they are, or, for the bundled demo, pointed at a demo server for the run."""
    if not settings.is_demo:
        yield settings
        return
    with serve_demo() as proxy:
        yield replace(settings, fetch=replace(settings.fetch, proxy=proxy))
