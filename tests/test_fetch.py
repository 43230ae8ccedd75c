"""Fetching against a real loopback server: conditional GET, caps, redirects, refused targets."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fetch.feeds import parse_feed
from fetch.http import Fetcher
from fetch.urls import canonical_url
from flows.stages import poll_feeds
from store import open_store
from wirewatch.config import FeedConfig, FetchSettings
from wirewatch.errors import FetchError

LOOPBACK = FetchSettings(allow_private_networks=True, total_timeout_s=10)
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://x.test/</link>
<item><title>First &amp; best</title><link>/story/1?utm_source=rss</link>
<pubDate>Thu, 19 Nov 2026 08:30:00 GMT</pubDate>
<description>&lt;p&gt;Summary one&lt;/p&gt;</description></item>
<item><title>No link</title></item>
</channel></rss>"""


def test_conditional_get_sends_validators_and_treats_304_as_nothing_new(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(RSS, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    feed = FeedConfig(name="Loop", url=httpserver.url_for("/feed.xml"))
    store = open_store(tmp_path / "w.db")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Fetcher(LOOPBACK) as fetcher:
        entries, report = poll_feeds([feed], store, fetcher, now)
        again, report2 = poll_feeds([feed], store, fetcher, now)
    assert seen == [None, '"v1"']
    assert [e.title for e in entries] == ["First & best"]
    assert entries[0].url == httpserver.url_for("/story/1")  # relative link resolved, tracking dropped
    assert entries[0].summary == "Summary one"
    assert entries[0].published == datetime(2026, 11, 19, 8, 30, tzinfo=UTC)
    assert any("without a link" in n for n in report.notes)
    assert again == [] and report2.done == 1
    assert store.list_feeds()[0].etag == '"v1"'


def test_failing_feed_backs_off_and_keeps_its_error(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/down.xml").respond_with_data("busy", status=503)
    feed = FeedConfig(name="Down", url=httpserver.url_for("/down.xml"))
    store = open_store(tmp_path / "w.db")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Fetcher(LOOPBACK) as fetcher:
        _, report = poll_feeds([feed], store, fetcher, now)
        _, later = poll_feeds([feed], store, fetcher, now)
    assert report.failed == 1 and report.errors == [f"feed {feed.url}: HTTP 503 SERVICE UNAVAILABLE"]
    state = store.list_feeds()[0]
    assert state.consecutive_failures == 1 and state.last_status == 503 and state.next_fetch
    assert later.skipped == 1  # backing off, not hammering


def test_byte_cap_counts_inflated_size(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"a" * 2_000_000)
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    settings = FetchSettings(allow_private_networks=True, max_page_bytes=100_000)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="larger than the 100000-byte cap"):
        fetcher.get(httpserver.url_for("/bomb"), max_bytes=settings.max_page_bytes)
    assert len(bomb) < 100_000


def test_redirects_are_limited(httpserver: HTTPServer) -> None:
    for i in range(7):
        httpserver.expect_request(f"/r{i}").respond_with_data(
            "", status=302, headers={"Location": f"/r{i + 1}"}
        )
    with Fetcher(LOOPBACK) as fetcher, pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.get(httpserver.url_for("/r0"), max_bytes=1000)


def test_private_and_non_http_targets_are_refused_by_default(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("secret")
    with Fetcher(FetchSettings()) as fetcher:
        with pytest.raises(FetchError, match="private address"):
            fetcher.get(httpserver.url_for("/x"), max_bytes=1000)
        with pytest.raises(FetchError, match="only http and https"):
            fetcher.get("file:///etc/passwd", max_bytes=1000)
    assert httpserver.log == []


def test_canonical_url_drops_tracking_and_fragments() -> None:
    assert (
        canonical_url("HTTPS://Example.COM:443/a?utm_source=x&id=3&fbclid=y#top")
        == "https://example.com/a?id=3"
    )


def test_ill_formed_feed_still_yields_entries() -> None:
    broken = RSS.replace("</channel></rss>", "<item><title>Unclosed</title><link>http://x.test/u</link>")
    parsed = parse_feed(broken.encode(), "http://x.test/feed.xml", "X")
    assert parsed.problem and parsed.problem.startswith("ill-formed feed")
    assert len(parsed.entries) >= 1
