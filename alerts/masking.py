"""Hide passwords and tokens in channel URLs before they are printed, logged or stored."""

from __future__ import annotations

import hashlib
import re

_PASSWORD = re.compile(r"^([^/@:]*):([^/@]*)@")
# A run of 8+ URL-safe characters outside a host name: a token when it mixes in digits or is
# long (Slack, Telegram, Discord and webhook URLs all carry such runs).
_RUN = re.compile(r"(?<![\w.\-])[A-Za-z0-9_\-]{8,}(?![\w.\-])")


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if any(c.isdigit() for c in run) or len(run) >= 20:
        return run[:2] + "***"
    return run


def mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url[:2] + "***"
    rest = _PASSWORD.sub(lambda m: f"{m.group(1)}:***@", rest)
    return f"{scheme}://{_RUN.sub(_mask_run, rest)}"


def channel_id(url: str) -> str:
    """A stable, secret-free name for a channel, for delivery records."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
