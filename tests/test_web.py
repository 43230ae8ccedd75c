"""The review page without a browser: the WSGI app called directly, and once over real loopback HTTP."""

from __future__ import annotations

import io
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import feedparser
import pytest
from click.testing import CliRunner
from markupsafe import escape

from wirewatch.cli import main
from wirewatch.demo_server import demo_root
from wirewatch.extractors.article import read_file_page
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import extract_articles, strip_source_templates
from wirewatch.records import FeedOutcome, NewArticle, StoredArticle
from wirewatch.settings import AlertSettings, FeedConfig, Settings, TopicConfig
from wirewatch.store import open_store
from wirewatch.web import ReviewApp
from wirewatch.web.app import split_snippet
from wirewatch.web.server import DEFAULT_HOST, make_review_server, url_host
from wirewatch.web.timeline import build_timeline

NOW = datetime(2026, 11, 29, tzinfo=UTC)
TOPICS = (
    TopicConfig("nk-sanctions", '"north korea" AND sanction*'),
    TopicConfig("port-strike", "dock* AND strike*"),
)
OUTLETS = {
    "meridian": "Meridian Press",
    "harbor": "Harbor Daily",
    "capital": "The Capital Ledger",
    "northern": "Northern Gazette",
}
NK_OIL = "UN experts say North Korea evaded oil cap through ship-to-ship transfers at sea"
NK_SEIZURE = "South Korea seizes tanker suspected of breaching North Korea sanctions"
NK_SECOND_SEIZURE = "Second tanker held at Busan in widening North Korea fuel inquiry"


def demo_articles(*only: str) -> list[NewArticle]:
    """The demo corpus as the pipeline stores it (extraction, then outlet templates stripped);
    `only` picks pages by "outlet/slug"."""
    pages = sorted((demo_root() / "pages").glob("*/*.html"))
    if only:
        pages = [p for p in pages if f"{p.parent.name}/{p.stem}" in only]
    articles, _ = extract_articles([read_file_page(p, source=OUTLETS[p.parent.name]) for p in pages])
    return articles


def build_demo_store(db: Path, topics: tuple[TopicConfig, ...] = TOPICS) -> Path:
    store = open_store(db)
    articles, _ = strip_source_templates(demo_articles(), store.articles.source_paragraph_counts)
    commit_articles(articles, store, load_index(store), topics, AlertSettings(), NOW)
    store.close()
    return db


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("web") / "demo.db")


@pytest.fixture
def app(demo_db: Path, tmp_path: Path) -> ReviewApp:
    # Each test writes to its own copy, so read/muted state never leaks between tests.
    db = tmp_path / "review.db"
    db.write_bytes(demo_db.read_bytes())
    return ReviewApp(
        Settings(database=str(db), topics=TOPICS), host="127.0.0.1", port=8000, clock=lambda: NOW
    )


class Page:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = {k.lower(): v for k, v in headers}
        self.text = body.decode("utf-8")

    def headlines(self) -> list[str]:
        return re.findall(r'class="headline" href="/clusters/\d+">([^<]*)</a>', self.text)


def call(
    app: ReviewApp,
    path: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    host: str = "127.0.0.1:8000",
) -> Page:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, QUERY_STRING=urlencode(query or {}), HTTP_HOST=host)
    if form is not None:
        body = urlencode(form).encode()
        environ.update(
            REQUEST_METHOD="POST",
            CONTENT_TYPE="application/x-www-form-urlencoded",
            CONTENT_LENGTH=str(len(body)),
        )
        environ["wsgi.input"] = io.BytesIO(body)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured.update(status=status, headers=headers)

    body = b"".join(app(environ, start_response))
    return Page(captured["status"], captured["headers"], body)


def cluster_id_of(page: Page, headline: str) -> int:
    match = re.search(rf'href="/clusters/(\d+)">{re.escape(str(escape(headline)))}</a>', page.text)
    assert match, headline
    return int(match[1])


def token_of(page: Page) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match
    return match[1]


# --- reading ---------------------------------------------------------------------------------


def test_stories_are_listed_newest_first_with_sources_times_and_topic_badges(app: ReviewApp) -> None:
    page = call(app, "/")
    assert page.status == 200
    assert "17 stories" in page.text
    headlines = page.headlines()
    assert len(headlines) == 17
    assert headlines[0] == NK_SECOND_SEIZURE  # 28 Nov 08:15
    assert headlines[1] == "Nordic regional airlines Skarva and Vindlo agree to merge"  # 22 Nov 15:45
    nk = page.text[page.text.index(NK_OIL) :]
    nk = nk[: nk.index("</li>")]
    assert "4 sources" in nk and "nk-sanctions" in nk
    assert "first seen <time>2026-11-19 08:30 UTC</time>" in nk
    assert "last seen <time>2026-11-20 07:45 UTC</time>" in nk


def test_filters_by_topic_and_by_time(app: ReviewApp) -> None:
    nk = call(app, "/", {"topic": "nk-sanctions"})
    assert nk.headlines() == [NK_SECOND_SEIZURE, NK_SEIZURE, NK_OIL]  # two seizures, two stories
    assert '<option value="nk-sanctions" selected>' in nk.text
    assert 'href="/topics/nk-sanctions.atom"' in nk.text
    # The clock says 2026-11-29 00:00: the last 24 hours hold the one story of the 28th, the
    # last 7 days the three of the 22nd too.
    assert call(app, "/", {"since": "24h"}).headlines() == [NK_SECOND_SEIZURE]
    assert len(call(app, "/", {"since": "7d"}).headlines()) == 4
    assert call(app, "/", {"since": "24h", "topic": "nk-sanctions"}).headlines() == [NK_SECOND_SEIZURE]
    assert "No stories for these filters" in call(app, "/", {"topic": "port-strike", "since": "24h"}).text


def test_search_box_takes_fts5_syntax_and_marks_the_matches(app: ReviewApp) -> None:
    page = call(app, "/", {"q": '"north korea" AND tanker*'})
    assert page.status == 200
    assert set(page.headlines()) == {NK_OIL, NK_SEIZURE, NK_SECOND_SEIZURE}
    assert re.search(r"<mark>tanker\w*</mark>", page.text, re.I)
    assert call(app, "/", {"q": "strike", "topic": "nk-sanctions"}).headlines() == []


def test_an_invalid_query_shows_fts5_reason_on_the_page(app: ReviewApp) -> None:
    page = call(app, "/", {"q": 'AND "north'})
    assert page.status == 400  # the page, not a server error
    assert "Invalid query: " in page.text and "fts5: " in page.text
    assert 'value="AND &#34;north"' in page.text  # the query stays in the box, escaped


def test_cluster_page_lists_every_article_with_tier_source_time_and_text(app: ReviewApp) -> None:
    cluster = cluster_id_of(call(app, "/"), NK_OIL)
    page = call(app, f"/clusters/{cluster}")
    assert page.status == 200
    rows = re.findall(
        r'tier-(\w+)">[^<]*</span>\s*<strong class="source">([^<]*)</strong>\s*'
        r'(?:<span class="badge lang" title="language">(\w+)</span>\s*)?<time>([^<]*)</time>',
        page.text,
    )
    assert {language for _, _, language, _ in rows} == {"en"}  # the demo's pages declare lang="en"
    assert [(tier, source) for tier, source, _, _ in rows] == [
        ("original", "Meridian Press"),
        ("near_duplicate", "Harbor Daily"),
        ("near_duplicate", "The Capital Ledger"),
        ("related", "Northern Gazette"),
    ]
    assert rows[0][3] == "2026-11-19 08:30 UTC"
    assert page.text.count("<details>") == 4
    first_text = page.text[page.text.index("<details>") : page.text.index("</details>")]
    assert "pass fuel from ship to ship on the open sea" in first_text


def test_cluster_timeline_draws_one_dot_per_article_on_a_time_axis(app: ReviewApp) -> None:
    cluster = cluster_id_of(call(app, "/"), NK_OIL)
    svg = call(app, f"/clusters/{cluster}").text
    svg = svg[svg.index("<svg") : svg.index("</svg>")]
    dots = [float(x) for x in re.findall(r'<circle class="dot[^"]*" cx="([\d.]+)"', svg)]
    assert len(dots) == 4 and dots == sorted(dots) and dots[0] < dots[-1]
    labels = re.findall(r'class="source-label"[^>]*>([^<]*)<', svg)
    assert labels == ["Meridian Press", "Harbor Daily", "The Capital Ledger", "Northern Gazette"]
    assert "19 Nov 08:30" in svg and "20 Nov 07:45" in svg  # axis runs from first to last


def test_timeline_of_one_article_centres_its_dot() -> None:
    article = StoredArticle(
        1, "https://x.test/a", "A", "Solo", "2026-11-19T08:30:00+00:00", 1, "original", "t"
    )
    timeline = build_timeline([article])
    assert timeline.dots[0].x == pytest.approx((timeline.plot_left + timeline.plot_right) / 2)
    undated = build_timeline([StoredArticle(2, "https://x.test/b", "B", "Nodate", None, 1, None, "t")])
    assert undated.dots == () and undated.undated == ("Nodate",)


def test_feed_health_page_puts_failing_feeds_first_with_their_error(app: ReviewApp) -> None:
    store = open_store(app.settings.database)
    store.feeds.states([("https://ok.test/rss", "Fine Feed"), ("https://down.test/rss", "Broken Feed")])
    store.feeds.record_outcomes(
        [
            FeedOutcome("https://ok.test/rss", 200, NOW, None),
            FeedOutcome(
                "https://down.test/rss", 503, NOW, NOW + timedelta(hours=1), "HTTP 503 from upstream"
            ),
        ]
    )
    store.close()
    settings = Settings(
        database=app.settings.database, feeds=(FeedConfig("Never Polled", "https://new.test/rss"),)
    )
    page = call(ReviewApp(settings, clock=lambda: NOW), "/feeds")
    assert page.status == 200
    assert "1 failing" in page.text
    assert page.text.index("Broken Feed") < page.text.index("Fine Feed")
    assert "HTTP 503 from upstream" in page.text and "2026-11-29 01:00 UTC" in page.text
    assert "Never Polled" in page.text


def test_topic_atom_route_serves_valid_atom_and_unknown_topics_404(app: ReviewApp) -> None:
    page = call(app, "/topics/nk-sanctions.atom")
    assert page.status == 200 and page.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(page.text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries][2] == NK_OIL
    assert feed.feed.links[0].href == "http://127.0.0.1:8000/topics/nk-sanctions.atom"
    assert call(app, "/topics/no-such-topic.atom").status == 404


def test_everything_shown_is_escaped(app: ReviewApp) -> None:
    store = open_store(app.settings.database)
    hostile = NewArticle(
        url="javascript:alert(1)",
        source="<b>Evil</b>",
        title="<script>alert('x')</script> North Korea sanctions",
        # Long enough to be an article, not a headline that might join a story on three words.
        text="North Korea sanctions <img src=x onerror=alert(1)> "
        + "reporters gathered outside the ministry while officials declined further comment "
        + "about shipments, ledgers, auditors, harbour fees, insurers, brokers and couriers",
        published=NOW,
    )
    commit_articles([hostile], store, load_index(store), TOPICS, AlertSettings(), NOW)
    store.close()
    listing = call(app, "/")
    assert "<script>alert" not in listing.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in listing.text
    cluster = cluster_id_of(listing, hostile.title)
    page = call(app, f"/clusters/{cluster}")
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&lt;b&gt;Evil&lt;/b&gt;" in page.text
    assert (
        'href="javascript:' not in page.text and 'class="title" title="the feed gives no link"' in page.text
    )
    assert page.headers["content-security-policy"].startswith("default-src 'none';")  # no scripts at all
    assert page.headers["x-frame-options"] == "DENY"


def test_snippets_split_into_marked_and_plain_parts() -> None:
    assert split_snippet("a [b] c [d]") == [("a ", False), ("b", True), (" c ", False), ("d", True)]


def test_unknown_pages_methods_and_hosts_are_refused(app: ReviewApp) -> None:
    assert call(app, "/nowhere").status == 404
    assert call(app, "/clusters/9999").status == 404
    assert call(app, "/clusters/" + "9" * 30).status == 404
    refused = call(app, "/", form={"action": "read"})
    assert refused.status == 405 and refused.headers["allow"] == "GET"
    # A hostile name re-pointed at 127.0.0.1 (DNS rebinding) gets nothing, not even the token.
    rebound = call(app, "/", host="evil.example:8000")
    assert rebound.status == 403 and "csrf" not in rebound.text
    assert call(app, "/", host="localhost:8000").status == 200
    assert call(app, "/static/style.css").headers["content-type"].startswith("text/css")


# --- writing ---------------------------------------------------------------------------------


def test_state_changes_without_the_csrf_token_are_refused_with_403(app: ReviewApp) -> None:
    cluster = cluster_id_of(call(app, "/"), NK_OIL)
    for form in ({"action": "read"}, {"action": "read", "csrf": "0" * 64}, {"action": "mute", "csrf": ""}):
        page = call(app, f"/clusters/{cluster}/state", form=form)
        assert page.status == 403, form
        assert "security token did not match" in page.text
    shown = call(app, f"/clusters/{cluster}").text
    assert 'id="read-badge"' not in shown and 'id="muted-badge"' not in shown


def test_mark_read_and_mute_are_stored_and_shown(app: ReviewApp) -> None:
    listing = call(app, "/")
    cluster = cluster_id_of(listing, NK_OIL)
    token = token_of(call(app, f"/clusters/{cluster}"))
    done = call(
        app, f"/clusters/{cluster}/state", form={"action": "read", "csrf": token, "next": "/?topic=x"}
    )
    assert done.status == 303 and done.headers["location"] == "/?topic=x"
    away = call(
        app, f"/clusters/{cluster}/state", form={"action": "mute", "csrf": token, "next": "//evil.test/"}
    )
    assert away.headers["location"] == f"/clusters/{cluster}"  # never redirected off-site
    page = call(app, f"/clusters/{cluster}")
    assert 'id="read-badge">read<' in page.text and "muted: no further alerts" in page.text
    assert 'value="unread">Mark unread' in page.text and 'value="unmute">Unmute' in page.text
    row = call(app, "/").text
    row = row[row.rindex("<li", 0, row.index(NK_OIL)) : row.index(NK_OIL)]
    assert "is-read" in row and "is-muted" in row
    assert NK_OIL not in call(app, "/topics/nk-sanctions.atom").text  # a muted story leaves the feed


def test_a_muted_story_raises_no_further_alerts(app: ReviewApp, tmp_path: Path) -> None:
    every = (TopicConfig("port-strike", "dock* AND strike*", mode="every_article"),)
    original, rewrite = demo_articles("harbor/port-strike"), demo_articles("capital/saltmere-port-walkout")

    def alerts_after_rewrite(db: Path, mute: bool) -> list[str]:
        store = open_store(db)
        commit_articles(original, store, load_index(store), every, AlertSettings(), NOW)
        store.close()
        if mute:
            review = ReviewApp(Settings(database=str(db), topics=every), clock=lambda: NOW)
            cluster = cluster_id_of(call(review, "/"), original[0].title)
            token = token_of(call(review, f"/clusters/{cluster}"))
            assert (
                call(review, f"/clusters/{cluster}/state", form={"action": "mute", "csrf": token}).status
                == 303
            )
        store = open_store(db)
        report = commit_articles(rewrite, store, load_index(store), every, AlertSettings(), NOW)
        keys = [a.key for a in store.outbox.listing()]
        clusters = {a.cluster_id for a in store.articles.listing()}
        store.close()
        assert report.topic_matches == 1 and len(clusters) == 1  # the rewrite joined the story
        return keys

    assert len(alerts_after_rewrite(tmp_path / "unmuted.db", mute=False)) == 2
    assert len(alerts_after_rewrite(tmp_path / "muted.db", mute=True)) == 1  # only the one before muting


@contextmanager
def serve_review(settings: Settings) -> Iterator[str]:
    """The review server on a free loopback port in a background thread; yields its base URL."""
    server = make_review_server(settings, DEFAULT_HOST, 0)
    thread = threading.Thread(target=server.serve_forever, name="wirewatch-ui", daemon=True)
    thread.start()
    try:
        yield f"http://{url_host(DEFAULT_HOST)}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_over_real_http_a_forged_post_is_refused_and_a_real_one_marks_read(
    demo_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "http.db"
    db.write_bytes(demo_db.read_bytes())
    with serve_review(Settings(database=str(db), topics=TOPICS)) as base:
        listing = urllib.request.urlopen(f"{base}/?topic=port-strike").read().decode()
        cluster = re.search(r'href="/clusters/(\d+)"', listing)
        assert cluster
        url = f"{base}/clusters/{cluster[1]}/state"
        with pytest.raises(urllib.error.HTTPError) as forged:
            urllib.request.urlopen(url, data=urlencode({"action": "read"}).encode())
        assert forged.value.code == 403
        token = re.search(
            r'name="csrf" value="([0-9a-f]+)"',
            urllib.request.urlopen(f"{base}/clusters/{cluster[1]}").read().decode(),
        )
        assert token
        # urllib follows the 303 back to the cluster page, as a browser would.
        shown = urllib.request.urlopen(url, data=urlencode({"action": "read", "csrf": token[1]}).encode())
        assert shown.status == 200 and 'id="read-badge">read<' in shown.read().decode()


def test_ui_on_a_port_already_taken_stops_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["ui", "--db", str(tmp_path / "u.db"), "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().endswith(f"Error: cannot listen on 127.0.0.1:{port}: Address already in use")
