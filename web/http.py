"""Just enough HTTP for a WSGI app: a parsed request, a response, and the status lines we use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# A review form posts a few short fields; anything bigger is not ours.
MAX_FORM_BYTES = 64 * 1024

STATUS_LINES = {
    200: "200 OK",
    301: "301 Moved Permanently",
    303: "303 See Other",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    host: str
    origin: str | None
    # Scheme and host as the client addressed us, for absolute links (Atom needs them).
    base_url: str


@dataclass(slots=True)
class Response:
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class FormTooLarge(Exception):
    """The request body is bigger than any form of ours."""


def parse_request(environ: dict[str, Any]) -> Request:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    form: dict[str, str] = {}
    if method == "POST":
        form = _first_values(_read_body(environ))
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    scheme = environ.get("wsgi.url_scheme", "http")
    # wsgiref hands PATH_INFO over as latin-1 decoded bytes (PEP 3333); paths are UTF-8 on the wire.
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", errors="replace")
    return Request(
        method=method,
        path=path or "/",
        query=_first_values(environ.get("QUERY_STRING", "")),
        form=form,
        host=host,
        origin=environ.get("HTTP_ORIGIN"),
        base_url=f"{scheme}://{host}",
    )


def _read_body(environ: dict[str, Any]) -> str:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_FORM_BYTES:
        raise FormTooLarge
    return environ["wsgi.input"].read(length).decode("utf-8", errors="replace") if length > 0 else ""


def _first_values(encoded: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(encoded, keep_blank_values=True).items()}
