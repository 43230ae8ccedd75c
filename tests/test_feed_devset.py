"""The development set of real-world feeds (feedparser's own test suite, many ill-formed): every
one is fetched over loopback and parsed; none crashes a run; readable entries are kept."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from tests.conftest import SHARED, _need_shared
from wirewatch.fetch.feeds import first_words, plain_text
from wirewatch.fetch.http import Fetcher
from wirewatch.fetch.urls import canonical_url
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import NO_LINK, extract_articles, fetch_pages, poll_feeds
from wirewatch.settings import AlertSettings, FeedConfig, FetchSettings
from wirewatch.store import open_store

NOW = datetime(2026, 11, 23, tzinfo=UTC)
DEVSET = SHARED / "eval" / "feeds"
_HEADER = re.compile(rb"^Header:\s*([\w-]+):\s*(.+?)\s*$", re.M | re.I)


def _served_headers(body: bytes) -> dict[str, str]:
    """The HTTP headers a test feed says it was served with, in its leading comment."""
    head = body[:2000]
    return {m.group(1).decode().title(): m.group(2).decode("latin-1") for m in _HEADER.finditer(head)}


@pytest.fixture(scope="module")
def devset_server() -> Iterator[tuple[str, list[Path]]]:
    root = _need_shared(SHARED / "eval" / "feeds").resolve()
    files = sorted(root.rglob("*.xml"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = (root / self.path.lstrip("/")).resolve()
            if root not in path.parents or not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            headers = _served_headers(body)
            self.send_response(200)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/xml"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", [f.relative_to(root) for f in files]
    finally:
        server.shutdown()
        server.server_close()


def test_every_devset_feed_is_read_without_crashing_and_nothing_leaves_the_machine(
    devset_server: tuple[str, list[Path]], tmp_path: Path
) -> None:
    base, files = devset_server
    assert len(files) > 900
    feeds = [FeedConfig(name=str(f), url=f"{base}/{f.as_posix()}") for f in files]
    # Only our loopback server may be fetched: the feeds' links name outside hosts.
    settings = FetchSettings(allow_private_networks=True, allowed_hosts=frozenset({"127.0.0.1"}))
    store = open_store(tmp_path / "devset.db")
    with Fetcher(settings) as fetcher:
        poll = poll_feeds(feeds, store, fetcher, NOW)
        entries, report = poll.entries, poll.report
        assert report.done == len(files) and report.failed == 0, report.errors[:5]
        pages, page_report = fetch_pages(entries, store, fetcher)
    assert entries and len(pages) == len(entries)
    # Every page link points outside: refused before any request, kept from the feed entry.
    linked = [p for p in pages if p.error != NO_LINK and not p.url.startswith(base)]
    assert linked and all(p.error and "allowed_hosts" in p.error for p in linked)
    articles, _ = extract_articles(pages)
    assert all(a.from_feed_only for a in articles if not a.url.startswith(base))
    result = commit_articles(articles, store, load_index(store), (), AlertSettings(), NOW)
    assert result.new_articles == len({a.url for a in articles})
    assert any("ill-formed feed" in note for note in report.notes)
    # No entry with something to read is dropped: each is an article, linked or not (an entry
    # without a link is known by its feed and title, or its first words when it has none).
    rows = list(store.db.query("SELECT url, feed_url, title FROM articles"))
    urls = {r["url"] for r in rows}
    titled = {(r["feed_url"], r["title"]) for r in rows}
    entries = _entries_with_content(base, files)
    assert len(entries) > 250
    missing = [
        e for e in entries if (canonical_url(e[1]) not in urls if e[1] else (e[0], e[2]) not in titled)
    ]
    assert not missing, missing[:5]
    assert sum(1 for r in rows if r["url"].startswith("urn:wirewatch:entry:")) > len(entries) / 2


def _entries_with_content(base: str, files: list[Path]) -> list[tuple[str, str, str]]:
    """(feed URL, http link or "", title or first words) of every entry feedparser reads with a
    title, summary or content."""
    found = []
    for name in files:
        parsed = feedparser.parse((DEVSET / name).read_bytes(), sanitize_html=True)
        for entry in parsed.entries:
            title = plain_text(entry.get("title", ""))
            text = plain_text(entry.get("summary") or (entry.get("content") or [{}])[0].get("value", ""))
            if title or text:
                hrefs = [entry.get("link"), *(x.get("href") for x in entry.get("links", [])), entry.get("id")]
                link = next((str(h) for h in hrefs if h and str(h).startswith(("http://", "https://"))), "")
                found.append((f"{base}/{name.as_posix()}", link, title or first_words(text)))
    return found
