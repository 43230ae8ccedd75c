"""Feed documents into FeedEntry records, with feedparser; ill-formed feeds still yield entries."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from wirewatch.fetch.urls import canonical_url
from wirewatch.records import FeedEntry

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: tuple[FeedEntry, ...]
    problem: str | None  # feedparser's bozo reason, when the feed is ill-formed but readable
    skipped: int  # entries with neither a title, a summary nor content: nothing to store
    ttl_minutes: float | None = None  # RSS <ttl>: how long the publisher asks us to wait


def plain_text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment or "")).split())


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_link(entry: feedparser.FeedParserDict) -> str | None:
    candidates = [entry.get("link")] + [lnk.get("href") for lnk in entry.get("links", [])] + [entry.get("id")]
    for link in candidates:
        if link and str(link).startswith(("http://", "https://")):
            return str(link)
    return None


# The identity of an entry without a link: status pages, press-release wires and feed bridges
# often give none. Not a URL anyone can open; the review page and Atom show such entries unlinked.
ENTRY_SCHEME = "urn:wirewatch:entry:"


def is_entry_identity(url: str) -> bool:
    return url.startswith(ENTRY_SCHEME)


def _entry_identity(entry: feedparser.FeedParserDict, feed_url: str, title: str, content: str) -> str:
    """An identity for an entry without a link that the next run finds again: its id/guid
    within its feed, else its feed with its title and content (an edited entry is new)."""
    guid = str(entry.get("id") or "").strip()
    basis = f"{feed_url}\0id\0{guid}" if guid else f"{feed_url}\0text\0{title}\0{content}"
    return ENTRY_SCHEME + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:32]


def _declared_language(entry: feedparser.FeedParserDict, feed: feedparser.FeedParserDict) -> str | None:
    """An entry's declared language: its own (Atom xml:lang on its content or title), else the
    feed's (RSS <language>, Atom xml:lang). The extract stage checks the tag."""
    for detail in (*(entry.get("content") or []), entry.get("summary_detail"), entry.get("title_detail")):
        if detail and detail.get("language"):
            return str(detail["language"])
    return str(feed.get("language") or "") or None


def _full_content(entry: feedparser.FeedParserDict) -> str:
    """The entry's content (content:encoded, Atom content), sanitized by feedparser: the whole
    article in many feeds. Its text is cleaned by the extract stage."""
    contents = entry.get("content") or []
    return max((str(c.get("value") or "") for c in contents), key=len, default="")


def _content_of(entry: feedparser.FeedParserDict) -> str:
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value", "")
    return summary


def first_words(text: str, limit: int = 12) -> str:
    """A title for an entry that has none (status updates, micro-posts): its first words."""
    words = text.split()
    return " ".join(words[:limit]) + (" …" if len(words) > limit else "")


def parse_feed(body: bytes, feed_url: str, source: str, content_type: str = "") -> ParsedFeed:
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True)
    problem = None
    if parsed.get("bozo"):
        problem = f"ill-formed feed: {parsed.get('bozo_exception')}"
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for entry in parsed.entries:
        title = plain_text(entry.get("title", ""))
        summary = plain_text(_content_of(entry))
        if not title and not summary:
            skipped += 1
            continue
        link = _entry_link(entry)
        url = canonical_url(link) if link else _entry_identity(entry, feed_url, title, summary)
        if url in seen:
            continue
        seen.add(url)
        entries.append(
            FeedEntry(
                feed_url=feed_url,
                source=source,
                url=url,
                title=title or first_words(summary) or url,
                summary=summary,
                published=_entry_time(entry),
                author=plain_text(entry.get("author", "")) or None,
                link=link,
                content_html=_full_content(entry),
                language=_declared_language(entry, parsed.feed),
            )
        )
    ttl = str(parsed.feed.get("ttl", "")).strip()
    return ParsedFeed(
        entries=tuple(entries),
        problem=problem,
        skipped=skipped,
        ttl_minutes=float(ttl) if ttl.isdigit() and int(ttl) > 0 else None,
    )
