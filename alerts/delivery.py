"""Alert channels: Apprise URLs and signed webhooks, each delivering one message at a time.

Channels share one small interface (`id`, `label`, `send`), so the outbox can remember which
channel already has an alert and never repeat it on a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

import apprise
import httpx

from wirewatch.alerts.masking import channel_id, mask_url, masked_logs
from wirewatch.records import AlertMessage
from wirewatch.settings import AlertSettings

WEBHOOK_TIMEOUT_S = 15.0
SIGNATURE_HEADER = "X-Wirewatch-Signature"


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    ok: bool
    error: str | None = None


class Channel(Protocol):
    id: str
    label: str  # secret-free, for logs and errors

    def send(self, title: str, body: str, payload: dict[str, object]) -> ChannelOutcome: ...


def render_message(message: AlertMessage) -> tuple[str, str]:
    sources = "1 source" if message.sources_count == 1 else f"{message.sources_count} sources"
    # A one-source story's summary is its own lead, which the snippet already shows.
    shown = message.summary if message.sources_count > 1 or message.kind == "development" else ()
    summary = [f"In short: {' '.join(shown)}", ""] if shown else []
    story = [f"Story: {message.story_url}"] if message.story_url else []
    footer = ["", f"{sources} · topic {message.topic} · alert id {message.alert_key}"]
    if message.kind == "development":
        title = f"[wirewatch] {message.topic}: new in “{message.headline}”"
        new = [f"• {s.text} ({s.source})" for s in message.new_sentences]
        lines = [message.headline, *story, "", *summary, "New since the last alert:", *new]
        return title, "\n".join(lines + footer)
    title = f"[wirewatch] {message.topic}: {message.headline}"
    lines = [message.headline, f"{message.source}: {message.url}", *story, "", *summary, message.snippet]
    return title, "\n".join(lines + footer)


def render_digest(topic: str, messages: list[AlertMessage]) -> tuple[str, str]:
    title = f"[wirewatch] {topic}: {len(messages)} new {'story' if len(messages) == 1 else 'stories'}"
    lines = []
    for m in messages:
        lines += [f"• {m.headline} ({m.sources_count} sources)", f"  {m.source}: {m.url}"]
    lines += ["", "alert ids: " + ", ".join(m.alert_key for m in messages)]
    return title, "\n".join(lines)


def payload_of(messages: list[AlertMessage]) -> dict[str, object]:
    alerts = [
        {
            "alert_id": m.alert_key,
            "topic": m.topic,
            "headline": m.headline,
            "source": m.source,
            "url": m.url,
            "snippet": m.snippet,
            "sources": m.sources_count,
            "kind": m.kind,
            "story_url": m.story_url,
            "summary": list(m.summary),
            "new_sentences": [
                {"text": s.text, "article_id": s.article_id, "source": s.source} for s in m.new_sentences
            ],
            **(
                {"entity": {"list": m.topic, "id": m.entity_id, "name": m.entity_name}} if m.entity_id else {}
            ),
        }
        for m in messages
    ]
    return {"alerts": alerts}


class AppriseChannel:
    def __init__(self, url: str) -> None:
        self.url = url
        self.id = channel_id(url)
        self.label = mask_url(url)

    def send(self, title: str, body: str, payload: dict[str, object]) -> ChannelOutcome:
        # Apprise logs the URL it posts to (`Sent ntfy notification to 'https://ntfy.sh/topic'`).
        with masked_logs([self.url]):
            return self._send(title, body)

    def _send(self, title: str, body: str) -> ChannelOutcome:
        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            return ChannelOutcome(False, f"{self.label}: not a valid Apprise URL")
        try:
            ok = bool(notifier.notify(title=title, body=body))
        except Exception as exc:  # a plugin bug must not lose the alert: it stays pending
            return ChannelOutcome(False, f"{self.label}: {type(exc).__name__}")
        return ChannelOutcome(ok, None if ok else f"{self.label}: delivery failed (unreachable or refused)")


class WebhookChannel:
    """POSTs JSON; with a secret, signs the exact body: `X-Wirewatch-Signature: sha256=<hex>`."""

    def __init__(self, url: str, secret: str | None) -> None:
        self.url = url
        self.secret = secret
        self.id = channel_id(url)
        self.label = mask_url(url)

    def send(self, title: str, body: str, payload: dict[str, object]) -> ChannelOutcome:
        data = json.dumps({"title": title, "message": body, **payload}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "wirewatch"}
        if self.secret:
            digest = hmac.new(self.secret.encode("utf-8"), data, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        try:
            # httpx logs each request's URL at INFO.
            with masked_logs([self.url]):
                response = httpx.post(self.url, content=data, headers=headers, timeout=WEBHOOK_TIMEOUT_S)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
            return ChannelOutcome(False, f"{self.label}: {type(exc).__name__}")
        if response.status_code >= 300:
            return ChannelOutcome(False, f"{self.label}: HTTP {response.status_code}")
        return ChannelOutcome(True)


def channels_from(settings: AlertSettings) -> list[Channel]:
    channels: list[Channel] = [AppriseChannel(url) for url in settings.urls]
    channels += [WebhookChannel(hook.url, hook.secret) for hook in settings.webhooks]
    return channels


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)
