"""What an alert says: the story's headline, the article that raised it and a snippet of its text."""

from __future__ import annotations

from wirewatch.records import AlertMessage, AlertSubject, StoredAlert

SNIPPET_CHARS = 280


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text on one line, cut at a word before `limit` characters (marked with an ellipsis)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def alert_message(
    alert: StoredAlert, subject: AlertSubject, review_url: str | None = None, summary: tuple[str, ...] = ()
) -> AlertMessage:
    """The message of an alert, from what the store holds about it (store.outbox.subject), with
    a link to its story's page under `review_url` and the story's summary."""
    story_url = f"{review_url}/clusters/{subject.cluster_id}" if review_url and subject.cluster_id else None
    return AlertMessage(
        alert_id=alert.id,
        alert_key=alert.key,
        topic=alert.topic,
        headline=subject.headline if subject.headline is not None else subject.title,
        source=subject.source,
        url=subject.url,
        snippet=snippet(subject.text),
        sources_count=subject.sources_count,
        entity_id=alert.entity_id,
        entity_name=alert.entity_name,
        kind=alert.kind or "new_story",
        new_sentences=subject.new_sentences,
        story_url=story_url,
        summary=summary,
    )
