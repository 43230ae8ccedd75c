"""Hide passwords, tokens and topics of channel URLs before they are printed, logged or stored.

`mask_url` (in the ground, wirewatch.settings, so config errors use it too) masks one URL; here
are the masks for free text: URLs found in a message, and the secret parts of the channels being
delivered to, which Apprise, httpx and urllib3 write into their own log lines (a topic alone,
`"POST /mysecrettopic HTTP/1.1"`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote

from wirewatch.settings import MASK, mask_url

__all__ = ["MASK", "channel_id", "mask_text", "mask_url", "masked_logs", "secret_parts"]

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>()\[\]]+")
_DELIMITERS = re.compile(r"[/?#&=@:]+")
# Parts shorter than this are left in log text: replacing "a" or "id" everywhere would garble
# every line, and a secret that short is guessed, not leaked.
MIN_SECRET_CHARS = 4
# Loggers of the libraries a channel sends through; each writes the URL or its path.
THIRD_PARTY_LOGGERS = ("apprise", "httpx", "urllib3.connectionpool")


def channel_id(url: str) -> str:
    """A stable, secret-free name for a channel, for delivery records."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def secret_parts(url: str) -> set[str]:
    """The pieces of `url` that mask_url hides (userinfo, token hosts, path segments, secret
    query values, fragment), raw and percent-decoded, for finding them in free text: what the
    URL holds between delimiters and its masked form does not."""
    shown = set(_DELIMITERS.split(mask_url(url)))
    hidden = {piece for piece in _DELIMITERS.split(url.strip()) if piece not in shown}
    return {p for p in hidden | {unquote(p) for p in hidden} if len(p) >= MIN_SECRET_CHARS}


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every URL in it masked, then every known secret part replaced by ***."""
    text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class MaskingFilter(logging.Filter):
    """Rewrites a log record's message with mask_text before any handler sees it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = set(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: its raw text is still masked
            message = str(record.msg)
        masked = mask_text(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


@contextmanager
def masked_logs(urls: Iterable[str]) -> Iterator[None]:
    """While a channel sends, the libraries it sends through log its URL masked."""
    masking = MaskingFilter(part for url in urls for part in secret_parts(url))
    loggers = [logging.getLogger(name) for name in THIRD_PARTY_LOGGERS]
    for logger in loggers:
        logger.addFilter(masking)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(masking)
