"""Send alert messages through Apprise, one channel at a time, so each channel gets it once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import apprise

from alerts.masking import channel_id, mask_url
from wirewatch.records import AlertMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    channel: str  # channel_id(url)
    masked_url: str
    ok: bool
    error: str | None = None


def render_message(message: AlertMessage) -> tuple[str, str]:
    title = f"[wirewatch] {message.topic}: {message.headline}"
    sources = "1 source" if message.sources_count == 1 else f"{message.sources_count} sources"
    body = "\n".join(
        [
            message.headline,
            f"{message.source}: {message.url}",
            "",
            message.snippet,
            "",
            f"{sources} · topic {message.topic} · alert id {message.alert_key}",
        ]
    )
    return title, body


def send_to_channel(url: str, message: AlertMessage) -> ChannelOutcome:
    masked = mask_url(url)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return ChannelOutcome(channel_id(url), masked, False, f"{masked}: not a valid Apprise URL")
    title, body = render_message(message)
    try:
        ok = bool(notifier.notify(title=title, body=body))
    except Exception as exc:  # a plugin bug must not lose the alert; it stays pending
        return ChannelOutcome(channel_id(url), masked, False, f"{masked}: {type(exc).__name__}")
    error = None if ok else f"{masked}: delivery failed (unreachable or refused)"
    return ChannelOutcome(channel_id(url), masked, ok, error)
