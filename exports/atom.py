"""A topic's story clusters as an Atom 1.0 feed (RFC 4287): one entry per story, not per copy.

An entry's id is fixed per cluster and its `updated` is the cluster's last_seen, so a feed
reader shows each story once and marks it changed when another outlet runs it.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from wirewatch.dedup.summary import story_summary
from wirewatch.fetch.urls import is_openable
from wirewatch.records import StoredCluster
from wirewatch.timeutil import parse_iso

ATOM_NS = "http://www.w3.org/2005/Atom"
# Feed readers poll often; the newest stories are what they need, not the whole archive.
ATOM_MAX_ENTRIES = 100
# Characters XML 1.0 forbids even when escaped; scraped text sometimes carries them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cluster_entry_id(cluster_id: int) -> str:
    return f"urn:wirewatch:cluster:{cluster_id}"


def topic_feed_id(topic: str) -> str:
    return f"urn:wirewatch:topic:{quote(topic, safe='')}"


def render_atom(
    topic: str,
    clusters: Sequence[StoredCluster],
    now: datetime,
    *,
    self_url: str | None = None,
    ui_base: str | None = None,
) -> str:
    """The Atom document for `topic`; `clusters` newest first, as store.clusters.listing returns them.

    `self_url` is where the feed itself is served; `ui_base` (e.g. http://127.0.0.1:8000) adds
    links to the review page of the topic and of each cluster.
    """
    shown = list(clusters)[:ATOM_MAX_ENTRIES]
    # xmlns as a plain attribute: ElementTree's namespace handling would also qualify attributes.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(feed, "id", topic_feed_id(topic))
    _text(feed, "title", f"wirewatch: {topic}")
    _text(feed, "subtitle", f"Story clusters matching the topic {topic!r}, one entry per story.")
    newest = max((_stamp(c.last_seen, now) for c in shown), default=_format(now))
    _text(feed, "updated", newest)
    author = ET.SubElement(feed, "author")
    _text(author, "name", "wirewatch")
    _text(feed, "generator", "wirewatch")
    if self_url:
        _link(feed, self_url, "self", "application/atom+xml")
    if ui_base:
        _link(feed, f"{ui_base}/?topic={quote(topic, safe='')}", "alternate", "text/html")
    for cluster in shown:
        _entry(feed, cluster, now, ui_base)
    ET.indent(feed)
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def _entry(feed: ET.Element, cluster: StoredCluster, now: datetime, ui_base: str | None) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", cluster_entry_id(cluster.id))
    _text(entry, "title", cluster.headline)
    _text(entry, "updated", _stamp(cluster.last_seen, now))
    _text(entry, "published", _stamp(cluster.first_seen, now))
    linked = [a.url for a in cluster.articles if is_openable(a.url)]
    if linked:  # entries of a feed without links have only an identity
        _link(entry, linked[0], "alternate", "text/html")
    if ui_base:
        _link(entry, f"{ui_base}/clusters/{cluster.id}", "related", "text/html")
    for topic in cluster.topics:
        ET.SubElement(entry, "category", {"term": _clean(topic)})
    summary = ET.SubElement(entry, "summary", {"type": "html"})
    summary.text = _clean(_summary_html(cluster))


def _summary_html(cluster: StoredCluster) -> str:
    """What the story says (the sentences most of its sources agree on, dedup.summary), then the
    sources that ran it, first first: the reason this is one entry and not several."""
    said = "".join(
        f"<p>{html.escape(sentence)}</p>"
        for sentence in story_summary([(a.source, a.text) for a in cluster.articles])
    )
    items = "".join(
        f"<li>{_source_html(a.url, a.source)} "
        f"({html.escape((a.tier or 'original').replace('_', ' '))}, {_readable(a.published)}): "
        f"{html.escape(a.title)}</li>"
        for a in cluster.articles
    )
    return said + (
        f"<p>{_plural(cluster.sources_count, 'source')}, {_plural(len(cluster.articles), 'article')}:</p>"
        f"<ul>{items}</ul>"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _readable(stored: str | None) -> str:
    moment = parse_iso(stored)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "time unknown"


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _clean(value)
    return element


def _source_html(url: str, source: str) -> str:
    if not is_openable(url):
        return html.escape(source)
    return f'<a href="{html.escape(url)}">{html.escape(source)}</a>'


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, "link", {"href": _clean(href), "rel": rel, "type": kind})


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _stamp(stored: str | None, fallback: datetime) -> str:
    """An RFC 3339 time in UTC; a stored time that does not parse falls back to `fallback`."""
    return _format(parse_iso(stored) or fallback)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
