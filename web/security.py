"""What keeps other web pages from acting through the review page while it runs on loopback.

- CSRF: every write is a POST carrying a token derived (HMAC) from a random per-process secret;
  another origin cannot read the token, so it cannot forge the form. A restart changes it.
- DNS rebinding: a hostile name re-pointed at 127.0.0.1 would make our pages (token included)
  same-origin for it; answering only to the Host names we were bound as closes that door.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

_CSRF_PURPOSE = b"wirewatch review page: state changes"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# Bound to every interface on purpose: any Host may be right, so none is refused.
_WILDCARD_HOSTS = ("0.0.0.0", "::", "")


class RequestGuard:
    def __init__(self, host: str | None = None, port: int | None = None, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self.token = hmac.new(self._secret, _CSRF_PURPOSE, hashlib.sha256).hexdigest()
        self._allowed_hosts = _allowed_hosts(host, port)

    def token_ok(self, sent: str | None) -> bool:
        if not sent:
            return False
        return hmac.compare_digest(sent.encode(), self.token.encode())

    def host_ok(self, host_header: str) -> bool:
        return self._allowed_hosts is None or host_header.lower() in self._allowed_hosts

    def origin_ok(self, origin: str | None, host_header: str) -> bool:
        """A browser's Origin, when sent, must be this very site (a second line behind the token)."""
        if not origin:
            return True
        return urlsplit(origin).netloc.lower() == host_header.lower()


def _allowed_hosts(host: str | None, port: int | None) -> set[str] | None:
    if host is None or host in _WILDCARD_HOSTS:
        return None
    names = {host.lower()}
    if host in _LOOPBACK_NAMES or host == "::1":
        names.update(_LOOPBACK_NAMES)
    if ":" in host and not host.startswith("["):
        names.add(f"[{host.lower()}]")
    allowed = set(names)
    if port is not None:
        allowed.update(f"{name}:{port}" for name in names)
    return allowed
