"""Feed documents into FeedEntry records, with feedparser; ill-formed feeds still yield entries."""

from __future__ import annotations

import calendar
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
    skipped: int  # entries without a usable http(s) link
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
        link = _entry_link(entry)
        if not link:
            skipped += 1
            continue
        url = canonical_url(link)
        if url in seen:
            continue
        seen.add(url)
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value", "")
        entries.append(
            FeedEntry(
                feed_url=feed_url,
                source=source,
                url=url,
                title=plain_text(entry.get("title", "")) or url,
                summary=plain_text(summary),
                published=_entry_time(entry),
                author=plain_text(entry.get("author", "")) or None,
                link=link,
            )
        )
    ttl = str(parsed.feed.get("ttl", "")).strip()
    return ParsedFeed(
        entries=tuple(entries),
        problem=problem,
        skipped=skipped,
        ttl_minutes=float(ttl) if ttl.isdigit() and int(ttl) > 0 else None,
    )
