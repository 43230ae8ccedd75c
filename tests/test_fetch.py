"""Fetching against a real loopback server: conditional GET, caps, redirects, refused targets."""

from __future__ import annotations

import gzip
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from wirewatch.errors import FetchError
from wirewatch.fetch.feeds import parse_feed
from wirewatch.fetch.http import Fetcher
from wirewatch.fetch.schedule import next_fetch_after_failure
from wirewatch.fetch.urls import canonical_url
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import extract_articles, fetch_pages, poll_feeds
from wirewatch.records import FeedState
from wirewatch.settings import AlertSettings, FeedConfig, FetchSettings, TopicConfig
from wirewatch.store import open_store
from wirewatch.timeutil import parse_iso

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
        first = poll_feeds([feed], store, fetcher, now)
        assert store.feeds.listing()[0].etag is None  # validators wait for the entries to be stored
        store.feeds.record_outcomes(first.fetched)  # as the commit stage does
        again = poll_feeds([feed], store, fetcher, now)
    entries, report = first.entries, first.report
    assert seen == [None, '"v1"']
    assert [e.title for e in entries] == ["First & best", "No link"]
    assert entries[0].url == httpserver.url_for("/story/1")  # relative link resolved, tracking dropped
    assert entries[0].summary == "Summary one"
    assert entries[0].published == datetime(2026, 11, 19, 8, 30, tzinfo=UTC)
    assert entries[1].link is None and entries[1].url.startswith("urn:wirewatch:entry:")  # kept
    assert not report.errors
    assert again.entries == [] and again.report.done == 1
    assert store.feeds.listing()[0].etag == '"v1"'


def test_failing_feed_backs_off_and_keeps_its_error(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/down.xml").respond_with_data("busy", status=503)
    feed = FeedConfig(name="Down", url=httpserver.url_for("/down.xml"))
    store = open_store(tmp_path / "w.db")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with Fetcher(LOOPBACK) as fetcher:
        report = poll_feeds([feed], store, fetcher, now).report
        later = poll_feeds([feed], store, fetcher, now).report
    assert report.failed == 1 and report.errors == [f"feed {feed.url}: HTTP 503 SERVICE UNAVAILABLE"]
    state = store.feeds.listing()[0]
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


def _poll_once(httpserver: HTTPServer, tmp_path: Path, feed: FeedConfig) -> FeedState:
    store = open_store(tmp_path / "p.db")
    with Fetcher(LOOPBACK) as fetcher:
        store.feeds.record_outcomes(poll_feeds([feed], store, fetcher, NOW).fetched)
    return store.feeds.listing()[0]


NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_retry_after_is_honoured_on_429(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/busy.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    state = _poll_once(httpserver, tmp_path, FeedConfig("Busy", httpserver.url_for("/busy.xml")))
    assert state.last_status == 429
    assert parse_iso(state.next_fetch) >= NOW + timedelta(seconds=7200)


def test_cache_lifetime_ttl_and_feed_interval_stretch_the_next_fetch(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    ttl_feed = RSS.replace("<title>T</title>", "<title>T</title><ttl>90</ttl>")
    httpserver.expect_request("/ttl.xml").respond_with_data(
        ttl_feed, headers={"Cache-Control": "max-age=600"}
    )
    state = _poll_once(httpserver, tmp_path, FeedConfig("TTL", httpserver.url_for("/ttl.xml")))
    assert parse_iso(state.next_fetch) == NOW + timedelta(minutes=90)  # the longest of the three
    httpserver.expect_request("/plain.xml").respond_with_data(RSS)
    slow = FeedConfig("Slow", httpserver.url_for("/plain.xml"), interval_minutes=180)
    (tmp_path / "x").mkdir()
    state = _poll_once(httpserver, tmp_path / "x", slow)
    assert parse_iso(state.next_fetch) == NOW + timedelta(minutes=180)


def test_backoff_grows_with_failures_and_is_capped_at_a_day() -> None:
    rng = random.Random(1)
    delays = [(next_fetch_after_failure(NOW, n, None, rng) - NOW).total_seconds() for n in range(1, 20)]
    assert delays[0] < delays[3] < delays[8]
    assert max(delays) <= 24 * 3600 * 1.2


def test_private_targets_are_refused_by_address_and_by_name() -> None:
    with Fetcher(FetchSettings()) as fetcher:
        for url in (
            "http://10.1.2.3/feed",
            "http://169.254.169.254/latest",
            "http://localhost:8080/x",
            "http://[::1]/x",
            "http://224.0.0.1/x",
        ):
            with pytest.raises(FetchError, match="private address"):
                fetcher.get(url, max_bytes=100)
        with pytest.raises(FetchError, match="only http and https"):
            fetcher.check_target("javascript:alert(1)")


def test_redirect_off_the_allowed_hosts_is_refused_before_it_is_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://127.0.0.2:9/x"}
    )
    settings = FetchSettings(allow_private_networks=True, allowed_hosts=frozenset({"127.0.0.1"}))
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="not in \\[fetch\\] allowed_hosts"):
        fetcher.get(httpserver.url_for("/go"), max_bytes=1000)


def test_billion_laughs_feed_neither_hangs_nor_expands() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>ok</title><link>http://x.test/1</link></item></channel></rss>"
    )
    started = time.monotonic()
    parsed = parse_feed(bomb.encode(), "http://x.test/feed", "Bomb")
    assert time.monotonic() - started < 5
    assert all(len(e.title) < 10_000 for e in parsed.entries)


def test_unfetchable_page_is_stored_from_its_feed_entry_then_upgraded(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = RSS.replace("/story/1?utm_source=rss", "/story/paywalled")
    feed = feed.replace(
        "&lt;p&gt;Summary one&lt;/p&gt;",
        "Harbour pilots walked out over pay, closing the port to 1,200 ships.",
    )
    httpserver.expect_request("/f.xml").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_oneshot_request("/story/paywalled").respond_with_data("subscribe", status=403)
    store = open_store(tmp_path / "w.db")
    topics = (TopicConfig("port", "harbour AND pilot*"),)
    with Fetcher(LOOPBACK) as fetcher:
        for run in range(2):
            poll = poll_feeds(
                [FeedConfig("F", httpserver.url_for("/f.xml"))], store, fetcher, NOW, force=True
            )
            pages, _ = fetch_pages(poll.entries, store, fetcher)
            articles, _ = extract_articles(pages)
            report = commit_articles(
                articles, store, load_index(store), topics, AlertSettings(), NOW, poll.fetched
            )
            stored = [a for a in store.articles.listing() if a.url.endswith("/story/paywalled")]
            assert len(stored) == 1
            # Cross-language links read the anchors of the text it has now, the summary's no more.
            anchors = store.db.execute(
                "SELECT anchor FROM article_anchors WHERE article_id = ?", (stored[0].id,)
            ).fetchall()
            assert [a for (a,) in anchors] == (["n:1200"] if run == 0 else ["n:4700"])
            if run == 0:
                assert stored[0].from_feed_only and stored[0].text.startswith("Harbour pilots walked out")
                assert report.topic_matches == 1 and report.alerts_queued == 1
                page = (
                    "<html><body><article>"
                    + "<p>Harbour pilots walked out over pay. " * 30
                    + "They want 4,700 euros.</p></article>"
                )
                httpserver.expect_request("/story/paywalled").respond_with_data(
                    page, content_type="text/html"
                )
            else:
                assert not stored[0].from_feed_only and report.pages_recovered == 1
                assert report.alerts_queued == 0  # the same development: no second alert
    assert len(store.outbox.listing()) == 1


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.example.com/world/story-123",
        "https://WWW.Example.com/world/story-123?utm_source=rss&utm_medium=feed#comments",
        "https://m.example.com/world/story-123",
        "https://amp.example.com/world/story-123",
        "https://www.example.com/world/story-123/amp",
        "https://www.example.com/world/story-123/amp/",
        "https://www.example.com/world/story-123?amp=1",
        "https://www.example.com/world/story-123?outputType=amp",
    ],
)
def test_amp_mobile_and_tracked_links_are_one_article(variant: str) -> None:
    assert canonical_url(variant) == "https://www.example.com/world/story-123"


def test_canonical_url_keeps_what_selects_content() -> None:
    assert canonical_url("https://example.com/a?id=3&page=2") == "https://example.com/a?id=3&page=2"
    assert canonical_url("https://m.com/a") == "https://m.com/a"  # a host named m.com, not m.<site>
    assert canonical_url("https://example.com/campaign") == "https://example.com/campaign"
    # A bare parameter can be the page's address (courlan's own query pass would drop it).
    assert canonical_url("https://example.com/index.php?/2014/03/story") == (
        "https://example.com/index.php?%2F2014%2F03%2Fstory="
    )


def test_canonical_url_drops_trackers_by_name_not_what_selects_a_page() -> None:
    tracked = "https://Example.com:443/a?utm_source=rss&mtm_campaign=x&fbclid=1&smid=tw&id=3"
    assert canonical_url(tracked) == "https://example.com/a?id=3"
    # Names that contain a tracker's letters (courlan's pattern drops these) select pages.
    for query in ("cid=481", "gallery=7", "gameid=12", "uid=9"):
        assert (
            canonical_url(f"https://example.com/news.php?{query}") == f"https://example.com/news.php?{query}"
        )


def test_requests_to_one_host_stay_within_its_limit() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    class Slow(BaseHTTPRequestHandler):  # a threaded server: it could take all 16 at once
        def do_GET(self) -> None:  # noqa: N802
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slow"
    settings = FetchSettings(allow_private_networks=True, concurrency=8, per_host_concurrency=2)
    try:
        with Fetcher(settings) as fetcher, ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: fetcher.get(url, max_bytes=100), range(16)))
    finally:
        server.shutdown()
        server.server_close()
    assert peak == 2


def test_a_server_that_stalls_is_a_timeout_not_a_hang() -> None:
    class Stall(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"<rss>")
            self.wfile.flush()
            time.sleep(3)  # then nothing more: a read that never completes

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stall)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = FetchSettings(allow_private_networks=True, read_timeout_s=0.5, total_timeout_s=2)
    started = time.monotonic()
    try:
        with Fetcher(settings) as fetcher, pytest.raises(FetchError, match="timed out"):
            fetcher.get(f"http://127.0.0.1:{server.server_address[1]}/feed", max_bytes=1000)
    finally:
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 2.5


def _paragraphs(topic: str, count: int) -> list[str]:
    return [
        f"{topic} paragraph {n}: inspectors counted the vessels, the cargo and the crews at anchor, "
        f"and the ministry said figure {n * 17} would be published with the quarterly report."
        for n in range(count)
    ]


def test_the_feeds_own_full_text_stands_in_for_a_page_that_fails_or_holds_less(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A feed that carries each article (content:encoded): its text, cleaned by the boilerplate
    rules, is stored when the page is refused, is not HTML, or is a teaser; a full page wins."""
    stories = {"paywalled": "Tanker", "pdf": "Pilots", "teaser": "Dredging", "full": "Customs"}
    items = "".join(
        f"<item><title>{topic} report</title><link>/{slug}</link><description>Short.</description>"
        "<content:encoded><![CDATA[<p>"
        + "</p><p>".join([*_paragraphs(topic, 6), "Share this: Twitter Facebook"])
        + f"</p><p>The post {topic} report appeared first on Harbour Daily.</p>]]></content:encoded></item>"
        for slug, topic in stories.items()
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>T</title>{items}</channel></rss>"
    )
    httpserver.expect_request("/f.xml").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/paywalled").respond_with_data("subscribe", status=403)
    httpserver.expect_request("/pdf").respond_with_data(b"%PDF-1.7", content_type="application/pdf")

    def page(topic: str, count: int) -> str:
        body = "".join(f"<p>{p}</p>" for p in _paragraphs(topic, count))
        return f"<html><body><article><h1>{topic} report</h1>{body}</article></body></html>"

    httpserver.expect_request("/teaser").respond_with_data(page("Dredging", 2), content_type="text/html")
    httpserver.expect_request("/full").respond_with_data(page("Customs", 12), content_type="text/html")
    store = open_store(tmp_path / "w.db")
    with Fetcher(LOOPBACK) as fetcher:
        poll = poll_feeds([FeedConfig("F", httpserver.url_for("/f.xml"))], store, fetcher, NOW)
        pages, _ = fetch_pages(poll.entries, store, fetcher)
    articles, _ = extract_articles(pages)
    commit_articles(articles, store, load_index(store), (), AlertSettings(), NOW, poll.fetched)
    stored = {a.url.rsplit("/", 1)[1]: a for a in store.articles.listing()}
    for slug in ("paywalled", "pdf", "teaser"):
        article = stored[slug]
        assert article.text_source == "feed", slug
        assert article.text.count("\n") == 5 and "paragraph 5" in article.text  # six paragraphs
        assert "appeared first on" not in article.text and "Share this" not in article.text
    assert stored["paywalled"].from_feed_only and stored["pdf"].from_feed_only  # pages retried
    assert not stored["teaser"].from_feed_only  # its page was read: nothing more to get
    assert stored["full"].text_source == "page" and "paragraph 11" in stored["full"].text
