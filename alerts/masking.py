"""Hide passwords and tokens in channel URLs before they are printed, logged or stored."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

# Path segments and query values this long and random-looking are tokens (Slack, Telegram, ...).
_TOKEN = re.compile(r"[A-Za-z0-9_\-:]{12,}")


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = (
            f"{_mask(user) if _TOKEN.fullmatch(user) else user}:***@{host}"
            if ":" in userinfo
            else f"{_mask(user)}@{host}"
        )
    elif _TOKEN.fullmatch(netloc.split(":")[0] or ""):
        netloc = _mask(netloc)
    path = "/".join(_mask(seg) if _TOKEN.fullmatch(seg) else seg for seg in parts.path.split("/"))
    query = re.sub(r"=([^&]{6,})", lambda m: "=" + _mask(m.group(1)), parts.query)
    masked = f"{parts.scheme}://{netloc}{path}"
    return f"{masked}?{query}" if query else masked


def _mask(secret: str) -> str:
    return secret[:2] + "***"


def channel_id(url: str) -> str:
    """A stable, secret-free name for a channel, for delivery records."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
