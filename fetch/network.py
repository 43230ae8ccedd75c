"""The sockets under the HTTP client: the address check on the connection actually made, and one
deadline for a whole request.

Checking a name before the request and letting the client resolve it again to connect leaves a
gap a rebinding DNS server walks through (public answer first, 127.0.0.1 next). Here the name is
resolved once, the addresses are checked, and the socket connects to a checked address; TLS
still verifies the certificate against the name. And httpx's timeouts bound each read, not the
request: a server that sends its headers a byte a second never trips them. Every read and write
here is bounded by the deadline of the request the calling thread is making."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from wirewatch.fetch.addresses import is_public_address

_request = threading.local()  # each fetching thread's current deadline (time.monotonic())


class RefusedAddress(Exception):
    """The host resolved only to addresses a fetch may not reach."""


@contextmanager
def deadline(end: float) -> Iterator[None]:
    """Bound every socket operation of this thread's request by `end` (time.monotonic())."""
    previous = getattr(_request, "deadline", None)
    _request.deadline = end
    try:
        yield
    finally:
        _request.deadline = previous


def _bounded(timeout: float | None, late: type[Exception]) -> float | None:
    """The operation's own timeout, cut to what is left of the request's deadline."""
    end = getattr(_request, "deadline", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise late("the request's total time limit passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to checked addresses (unless private networks are allowed), within the
    request's deadline."""

    def __init__(self, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        addresses = self._addresses(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._sync.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
                continue
            return DeadlineStream(stream)
        raise last or httpcore.ConnectError(f"no address to connect to for {host}")

    def _addresses(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host} ({exc})") from exc
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if self.allow_private_networks:
            return found
        public = [a for a in found if is_public_address(a)]
        if not public:
            raise RefusedAddress(
                f"refused: {host} is a private address ({', '.join(found)}); "
                "set [fetch] allow_private_networks = true to allow it"
            )
        return public

    def sleep(self, seconds: float) -> None:
        self._sync.sleep(seconds)


def guarded_transport(
    allow_private_networks: bool, limits: httpx.Limits, proxy: str | None
) -> httpx.HTTPTransport:
    """httpx's own transport over the guarded backend. Through an HTTP proxy, the proxy connects
    to the target (its address is the user's choice), so only the deadline applies; a SOCKS
    proxy keeps httpx's own pool."""
    transport = httpx.HTTPTransport(limits=limits, proxy=proxy)
    through = httpx.Proxy(url=proxy) if proxy else None
    if through is not None and through.url.scheme not in ("http", "https"):
        return transport
    backend = GuardedBackend(allow_private_networks=allow_private_networks or through is not None)
    sizes: dict[str, Any] = {
        "ssl_context": httpx.create_ssl_context(),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "network_backend": backend,
    }
    # httpx takes no network backend, but its transport is a thin shell around an httpcore pool
    # built from these same arguments; that pool is swapped for one over our backend.
    transport._pool.close()
    if through is None:
        transport._pool = httpcore.ConnectionPool(**sizes)
    else:
        transport._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(
                scheme=through.url.raw_scheme,
                host=through.url.raw_host,
                port=through.url.port,
                target=through.url.raw_path,
            ),
            proxy_auth=through.raw_auth,
            proxy_headers=through.headers.raw,
            **sizes,
        )
    return transport
