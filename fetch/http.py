"""HTTP GET with explicit limits: one deadline per request (headers included), byte caps on the
wire and after decompression, a redirect limit, http(s) only, and no private-network targets
unless the config allows them (checked on the address actually connected to)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from wirewatch.errors import FetchError
from wirewatch.fetch.addresses import is_ip_literal, is_public_address
from wirewatch.fetch.decoding import content_coding, read_decoded
from wirewatch.fetch.network import RefusedAddress, deadline, guarded_transport
from wirewatch.fetch.schedule import parse_max_age, parse_retry_after
from wirewatch.settings import FetchSettings
from wirewatch.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False
    max_age_s: float | None = None  # the response's freshness lifetime (Cache-Control / Expires)

    @property
    def media_type(self) -> str:
        """The content type without parameters; servers that send none are taken to send HTML."""
        return self.content_type.split(";")[0].strip().lower() or "text/html"

    def text(self) -> str:
        """The body decoded with the charset the server declared (UTF-8 when none or unknown)."""
        return self.body.decode(_charset(self.content_type), errors="replace")


class Fetcher:
    """One HTTP client for a run; thread-safe, so feeds and pages can be fetched concurrently."""

    def __init__(self, settings: FetchSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,
            write=settings.read_timeout_s,
            pool=settings.total_timeout_s,
        )
        self.proxy = settings.proxy or environment_proxy()
        limits = httpx.Limits(max_connections=settings.concurrency * 2)
        self.client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,  # followed by hand, so every hop is checked
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            transport=transport or guarded_transport(settings.allow_private_networks, limits, self.proxy),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        """At most per_host_concurrency requests to one host at a time, however many feeds it has."""
        host = (urlsplit(url).hostname or "").lower()
        with self._slots_lock:
            if host not in self._host_slots:
                self._host_slots[host] = threading.BoundedSemaphore(self.settings.per_host_concurrency)
            return self._host_slots[host]

    def check_target(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(
                url, f"refused: only http and https URLs are fetched, not {parts.scheme or 'none'}"
            )
        if not parts.hostname:
            raise FetchError(url, "refused: URL has no host")
        allowed = self.settings.allowed_hosts
        if allowed and parts.hostname.lower() not in allowed:
            raise FetchError(url, f"refused: {parts.hostname} is not in [fetch] allowed_hosts")
        if self.settings.allow_private_networks:
            return
        # Names are checked where the connection is made (fetch.network), except through a
        # proxy, which resolves them itself: then the name's addresses are checked here.
        if is_ip_literal(parts.hostname):
            addresses = [parts.hostname]
        elif self.proxy:
            try:
                addresses = _resolve(parts.hostname)
            except (OSError, UnicodeError) as exc:
                raise FetchError(url, f"cannot resolve host ({exc})") from exc
        else:
            return
        for address in addresses:
            if not is_public_address(address):
                raise FetchError(
                    url,
                    f"refused: {parts.hostname} is a private address ({address}); "
                    "set [fetch] allow_private_networks = true to allow it",
                )

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> FetchResult:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        end: float | None = None  # one deadline for every hop, from when the first one starts
        for _ in range(self.settings.max_redirects + 1):
            self.check_target(url)
            try:
                with self._host_slot(url):  # waiting for a turn at a busy host is not the request's time
                    end = end or time.monotonic() + self.settings.total_timeout_s
                    with deadline(end), self.client.stream("GET", url, headers=headers) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code == 304:
                            return FetchResult(url, 304, b"", "", etag, last_modified, not_modified=True)
                        if response.status_code >= 400:
                            raise FetchError(
                                url,
                                f"HTTP {response.status_code} {response.reason_phrase}",
                                status=response.status_code,
                                retry_after_s=parse_retry_after(
                                    response.headers.get("retry-after"), utc_now()
                                ),
                            )
                        coding = content_coding(response.headers.get("content-encoding", ""), url)
                        body = read_decoded(response.iter_raw(), coding, max_bytes, url)
                        return FetchResult(
                            url=url,
                            status=response.status_code,
                            body=body,
                            content_type=response.headers.get("content-type", ""),
                            etag=response.headers.get("etag"),
                            last_modified=response.headers.get("last-modified"),
                            max_age_s=parse_max_age(
                                response.headers.get("cache-control"),
                                response.headers.get("expires"),
                                utc_now(),
                            ),
                        )
            except httpx.TimeoutException as exc:
                raise FetchError(url, f"timed out ({type(exc).__name__}: {exc})") from exc
            except RefusedAddress as exc:
                raise FetchError(url, str(exc)) from exc
            except httpx.InvalidURL as exc:  # not an HTTPError; raised for a bad Location too
                raise FetchError(url, f"refused: invalid or non-http URL ({exc})") from exc
            except (httpx.HTTPError, httpx.StreamError, ValueError, OSError) as exc:
                raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects")


def environment_proxy() -> str | None:
    """The proxy HTTPS_PROXY, HTTP_PROXY or ALL_PROXY names, when the config sets none
    (NO_PROXY is not read: set [fetch] proxy to choose per config)."""
    found = urllib.request.getproxies_environment()
    return found.get("https") or found.get("http") or found.get("all") or None


def _resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
            except LookupError:
                break
            return value.strip('"')
    return "utf-8"
