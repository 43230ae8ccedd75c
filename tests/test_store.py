"""The store against a real SQLite file, and the policies it records: the feed and alert backoff,
which cluster survives a merge, what an alert's message says."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wirewatch.alerts.messages import SNIPPET_CHARS, alert_message, snippet
from wirewatch.alerts.policy import ALERT_RETRY_BASE_S, ALERT_RETRY_CAP_S, after_failure
from wirewatch.dedup.merges import surviving_cluster
from wirewatch.fetch.schedule import BACKOFF_BASE_S, BACKOFF_CAP_S, JITTER, next_fetch_after_failure
from wirewatch.flows.commit import place_article
from wirewatch.records import FeedOutcome, NewArticle, Placement
from wirewatch.store import Store, open_store
from wirewatch.timeutil import backoff_seconds, parse_iso, to_iso

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
FEED = "https://wire.test/rss"
NEW = Placement(None, "original", 0.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "store.db")
    yield opened
    opened.close()


def _article(n: int, title: str = "", text: str = "Body text.") -> NewArticle:
    return NewArticle(
        url=f"https://news.test/{n}",
        source=f"Outlet {n}",
        title=title or f"Story {n}",
        text=text,
        published=NOW - timedelta(hours=10 - n),
    )


def _add(store: Store, n: int, placement: Placement = NEW, **fields: str) -> tuple[int, int]:
    """Store article `n` and place it as dedup decided: (article id, its cluster)."""
    article = _article(n, **fields)
    article_id = store.articles.insert(article, NOW)
    assert article_id is not None
    cluster_id, _, _ = place_article(store, article_id, to_iso(article.published) or "", placement)
    return article_id, cluster_id


def _joins(cluster: int, *merges: int) -> Placement:
    return Placement(None, "related", 0.5, story=cluster, merges=merges)


# --- articles -----------------------------------------------------------------------------


def test_the_same_article_url_is_stored_once(store: Store) -> None:
    assert store.articles.insert(_article(1), NOW) is not None
    assert store.articles.insert(_article(1, title="Changed"), NOW) is None
    assert [a.title for a in store.articles.listing()] == ["Story 1"]
    assert store.count("articles") == 1


def test_a_failed_transaction_stores_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        _add(store, 1)
        raise RuntimeError("killed")
    assert store.count("articles") == 0 and store.count("clusters") == 0


# --- feeds --------------------------------------------------------------------------------


def test_a_feed_failure_backs_off_and_success_clears_it(store: Store) -> None:
    assert store.feeds.states([(FEED, "Wire")])[FEED].consecutive_failures == 0
    for failures in (1, 2):
        retry = next_fetch_after_failure(NOW, failures, None, random.Random(failures))
        store.feeds.record_outcomes([FeedOutcome(FEED, 503, NOW, retry, error="HTTP 503")])
        state = store.feeds.listing()[0]
        assert state.consecutive_failures == failures and state.last_error == "HTTP 503"
        waited = (parse_iso(state.next_fetch) or NOW) - NOW
        expected = backoff_seconds(failures, BACKOFF_BASE_S, BACKOFF_CAP_S)
        assert expected * (1 - JITTER) <= waited.total_seconds() <= expected * (1 + JITTER)

    store.feeds.record_outcomes([FeedOutcome(FEED, 200, NOW, None, etag='"v1"')])
    state = store.feeds.listing()[0]
    assert (state.consecutive_failures, state.last_error, state.next_fetch) == (0, None, None)
    assert state.etag == '"v1"' and state.last_status == 200


def test_a_page_failure_is_counted_until_the_page_may_not_be_tried_again(store: Store) -> None:
    article = NewArticle(
        "https://news.test/p", "Outlet", "Teaser", "Summary.", NOW, from_feed_only=True, page_error="HTTP 500"
    )
    store.articles.insert(article, NOW)
    assert store.feeds.feed_only_urls([article.url], max_attempts=2) == {article.url}
    store.feeds.record_page_failure(article.url, "HTTP 502")
    assert store.feeds.feed_only_urls([article.url], max_attempts=2) == set()
    assert store.feeds.known_urls([article.url, "https://news.test/other"]) == {article.url}


# --- clusters and merges ------------------------------------------------------------------


def test_a_merged_clusters_articles_are_listed_under_the_surviving_cluster(store: Store) -> None:
    a, one = _add(store, 1)
    b, two = _add(store, 2)
    # The article joins cluster 2 and bridges cluster 1: dedup keeps the older cluster, 1.
    c, cluster = _add(store, 3, _joins(two, one))
    assert cluster == one == store.clusters.live(two)
    listed = store.clusters.listing()
    assert [x.id for x in listed] == [one]
    assert {x.id for x in listed[0].articles} == {a, b, c} and listed[0].sources_count == 3
    assert {x.cluster_id for x in store.articles.listing()} == {one}
    assert [(m.from_cluster, m.into_cluster, m.article_id) for m in store.clusters.merges(one)] == [
        (two, one, c)
    ]
    # The survivor's time span covers the merged cluster's.
    assert listed[0].first_seen == to_iso(_article(1).published)
    assert listed[0].last_seen == to_iso(_article(3).published)


def test_live_cluster_follows_a_chain_of_merges(store: Store) -> None:
    _, one = _add(store, 1)
    _, two = _add(store, 2)
    three_article, three = _add(store, 3)
    _add(store, 4, _joins(two, three))  # 3 -> 2
    _add(store, 5, _joins(one, two))  # 2 -> 1
    assert store.clusters.live(three) == store.clusters.live(two) == store.clusters.live(one) == one
    assert store.clusters.live(42) == 42  # an unknown id is its own
    assert store.clusters.placement_of(three_article)[0] == one
    assert [(m.from_cluster, m.into_cluster) for m in store.clusters.merges(one)] == [
        (three, two),
        (two, one),
    ]
    assert [(m.from_cluster, m.into_cluster) for m in store.clusters.merges(two)] == [(three, two)]
    # A placement naming a merged cluster lands in its live one.
    _, cluster = _add(store, 6, _joins(three))
    assert cluster == one and len(store.clusters.members(one)) == 6


def test_a_grown_cluster_gets_its_headline_and_titles(store: Store) -> None:
    _, one = _add(store, 1, title="Port strike closes Saltmere")
    _add(store, 2, _joins(one), title="Saltmere dockers walk out")
    assert store.clusters.titles(one, limit=1) == ["Saltmere dockers walk out"]
    store.clusters.set_headline(one, "Saltmere port strike")
    assert store.clusters.listing()[0].headline == "Saltmere port strike"


# --- the outbox ---------------------------------------------------------------------------


def _queue(store: Store) -> int:
    article_id, cluster = _add(store, 1, text="Dockers in Saltmere walked out on Monday.")
    assert store.outbox.record_match("ports", article_id, cluster, NOW)
    assert not store.outbox.record_match("ports", article_id, cluster, NOW)  # matched once only
    alert_id = store.outbox.queue(
        "ports:cluster:1", "ports", "new_story", cluster, article_id, "pending", NOW
    )
    assert alert_id is not None
    assert (
        store.outbox.queue("ports:cluster:1", "ports", "new_story", cluster, article_id, "pending", NOW)
        is None
    )
    return alert_id


def test_a_pending_alert_is_due_once_its_next_attempt_comes_and_a_sent_one_never(store: Store) -> None:
    alert_id = _queue(store)
    assert [a.id for a in store.outbox.due(NOW)] == [alert_id]

    failed = after_failure(store.outbox.attempts(alert_id) + 1, NOW, max_attempts=5)
    store.outbox.record_failure(
        alert_id,
        status=failed.status,
        attempts=failed.attempts,
        next_attempt=failed.next_attempt,
        error="down",
    )
    assert store.outbox.due(NOW) == []
    later = NOW + timedelta(seconds=ALERT_RETRY_BASE_S)
    (due,) = store.outbox.due(later)
    assert (due.id, due.status, due.attempts, due.last_error) == (alert_id, "pending", 1, "down")

    store.outbox.mark_sent(alert_id, later)
    assert store.outbox.due(later + timedelta(days=30)) == []
    assert store.outbox.due(later, force=True) == []
    assert store.outbox.listing()[0].status == "sent"


def test_an_alert_that_failed_for_good_is_sent_only_by_hand(store: Store) -> None:
    alert_id = _queue(store)
    failed = after_failure(3, NOW, max_attempts=3)
    store.outbox.record_failure(
        alert_id, status=failed.status, attempts=failed.attempts, next_attempt=failed.next_attempt, error="x"
    )
    assert store.outbox.due(NOW + timedelta(days=1)) == []
    assert [a.id for a in store.outbox.due(NOW, force=True)] == [alert_id]


def test_an_alert_message_names_the_story_and_cuts_the_text(store: Store) -> None:
    alert_id = _queue(store)
    store.clusters.set_headline(1, "Saltmere port strike")
    (alert,) = store.outbox.listing()
    message = alert_message(alert, store.outbox.subject(alert))
    assert (message.alert_id, message.headline, message.sources_count) == (
        alert_id,
        "Saltmere port strike",
        1,
    )
    assert message.snippet == "Dockers in Saltmere walked out on Monday."
    assert message.url == "https://news.test/1"


# --- review -------------------------------------------------------------------------------


def test_muting_a_merged_story_mutes_its_survivor(store: Store) -> None:
    _, one = _add(store, 1)
    _, two = _add(store, 2)
    store.review.set_muted(two, True, NOW)
    assert store.review.is_muted(two) and not store.review.is_muted(one)
    _add(store, 3, _joins(one, two))  # 2 -> 1
    assert store.review.is_muted(one)
    assert [(c.id, c.muted) for c in store.review.clusters()] == [(one, True)]
    store.review.set_muted(one, False, NOW)  # unmuting the story unmutes what was merged into it
    assert not store.review.is_muted(one) and not store.review.is_muted(two)
    assert [(c.id, c.muted) for c in store.review.clusters()] == [(one, False)]


def test_read_state_and_topics_show_in_the_review_list(store: Store) -> None:
    article_id, one = _add(store, 1)
    store.outbox.record_match("ports", article_id, one, NOW)
    store.review.set_read(one, True, NOW)
    summary = store.review.cluster(one)
    assert summary is not None and summary.read and summary.topics == ("ports",)
    assert store.review.topic_names() == ["ports"]
    assert store.review.cluster(42) is None


def test_search_returns_the_article_with_a_snippet(store: Store) -> None:
    article_id, cluster = _add(store, 1, title="Port strike", text="Dockers in Saltmere went on strike.")
    _add(store, 2, title="Election", text="Voters went to the polls.")
    (hit,) = store.review.search("strike")
    assert (hit.article_id, hit.cluster_id, hit.title) == (article_id, cluster, "Port strike")
    assert "[strike]" in hit.snippet


def test_the_full_text_index_holds_each_article_once_as_its_text_changes(tmp_path: Path) -> None:
    """New articles enter the full-text index from the insert, not a trigger (schema v15), and a
    feed-only article's page replaces its entry: each is found by its words, the teaser's gone,
    and FTS5's integrity check finds the index consistent with the articles' text."""
    from wirewatch.flows.commit import commit_articles, load_index
    from wirewatch.settings import AlertSettings

    store = open_store(tmp_path / "store.db")
    teaser = NewArticle(
        "https://news.test/t", "Outlet", "Dockers strike", "Summary.", NOW, from_feed_only=True
    )
    others = [_article(n, text=f"Dockers in port {n} went on strike.") for n in range(3)]
    commit_articles([teaser, *others], store, load_index(store), (), AlertSettings(), NOW)
    page = NewArticle(
        "https://news.test/t", "Outlet", "Dockers strike", "The whole page on the walkout.", NOW
    )
    commit_articles([page], store, load_index(store), (), AlertSettings(), NOW)
    store.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert len(store.review.search("strike")) == 4  # three texts and the page's title
    assert len(store.review.search("walkout")) == 1 and not store.review.search("summary")
    store.close()


# --- the policies the store records -------------------------------------------------------


def test_backoff_doubles_from_its_base_up_to_its_cap() -> None:
    assert [backoff_seconds(n, 60, 3600) for n in (0, 1, 2, 3, 4)] == [60, 60, 120, 240, 480]
    assert backoff_seconds(7, 60, 3600) == 3600 and backoff_seconds(10_000, 60, 3600) == 3600


def test_an_alert_retries_later_and_later_until_it_fails_for_good() -> None:
    waits = [(after_failure(n, NOW, 20).next_attempt - NOW).total_seconds() for n in range(1, 12)]
    assert waits[:3] == [ALERT_RETRY_BASE_S, 2 * ALERT_RETRY_BASE_S, 4 * ALERT_RETRY_BASE_S]
    assert waits == sorted(waits) and waits[-1] == ALERT_RETRY_CAP_S
    assert after_failure(4, NOW, 5).status == "pending"
    assert after_failure(5, NOW, 5).status == "failed"


def test_a_feed_backs_off_with_jitter_around_the_same_backoff() -> None:
    for failures in (1, 3, 40):
        waited = (next_fetch_after_failure(NOW, failures, None, random.Random(7)) - NOW).total_seconds()
        expected = backoff_seconds(failures, BACKOFF_BASE_S, BACKOFF_CAP_S)
        assert expected * (1 - JITTER) <= waited <= expected * (1 + JITTER)
    # A server's Retry-After is honoured as a minimum.
    assert next_fetch_after_failure(NOW, 1, 7200.0, random.Random(7)) == NOW + timedelta(hours=2)


def test_the_oldest_cluster_survives_a_merge() -> None:
    assert surviving_cluster([7, 3, 5]) == 3
    assert surviving_cluster({4}) == 4
    with pytest.raises(ValueError):
        surviving_cluster([])


def test_a_snippet_is_cut_at_a_word() -> None:
    assert snippet("  short\n text ") == "short text"
    cut = snippet("word " * 100)
    assert cut.endswith(" …") and len(cut) <= SNIPPET_CHARS + 2 and "wor …" not in cut


def test_runs_lists_each_run_and_shows_a_dead_one_as_interrupted(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from wirewatch.cli import main

    db = tmp_path / "runs.db"
    store = open_store(db)
    done = store.feeds.start_run("ingest")
    store.feeds.finish_run(done, "completed", {"new_articles": 3, "errors": []})
    # A run whose process died before it finished: its row says running, no process holds its lock.
    store.db.execute(
        "INSERT INTO runs (kind, started, status) VALUES ('run', '2026-11-30T06:00:00+00:00', 'running')"
    )
    store.db.conn.commit()
    store.close()
    listed = json.loads(CliRunner().invoke(main, ["runs", "--db", str(db), "--json"]).stdout)
    assert [(r["kind"], r["status"]) for r in listed] == [("run", "interrupted"), ("ingest", "completed")]
    assert listed[0]["finished"] and listed[1]["summary"]["new_articles"] == 3
    table = CliRunner().invoke(main, ["runs", "--db", str(db)]).stdout
    assert "interrupted" in table and table.splitlines()[0].split()[:3] == ["id", "kind", "status"]


# Tables that grow with every article stored: a lookup that reads all of one costs more each run.
_GROWING = ("articles", "alerts", "topic_matches", "fingerprints", "article_anchors", "article_statements")
_TABLES = re.compile(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)
_KEYWORDS = {"WHERE", "JOIN", "ON", "SET", "LEFT", "INNER", "GROUP", "ORDER", "LIMIT", "INDEXED", "NOT"}


def _tables_by_name(sql: str) -> dict[str, str]:
    """The tables a statement reads, by the name its query plan gives them (their alias, if any)."""
    names = {}
    for table, alias in _TABLES.findall(sql):
        names[table] = table
        if alias and alias.upper() not in _KEYWORDS:
            names[alias] = table
    return names


def test_storing_articles_reads_no_growing_table_whole(tmp_path: Path) -> None:
    """Every statement the store path runs (placing, topic matches, alerts, developments,
    cross-language links, a merge) finds its rows by an index: none reads a table that grows with
    the store from end to end, which made a run slower with every article kept."""
    from benchmarks.clustering import ALERTS, SyntheticCorpus, scale_topics
    from wirewatch.flows.commit import commit_articles, load_index

    corpus = SyntheticCorpus(stories=40)
    store = open_store(tmp_path / "scans.db")
    statements: set[str] = set()
    store.db.conn.set_trace_callback(statements.add)
    index = load_index(store)
    for start in (0, 300):
        batch = [corpus.article(i)[0] for i in range(start, start + 300)]
        commit_articles(batch, store, index, scale_topics(corpus), ALERTS, batch[-1].published)
    store.db.conn.set_trace_callback(None)
    stories = sorted({a.cluster_id for a in store.articles.listing() if a.cluster_id is not None})
    store.db.conn.set_trace_callback(statements.add)
    store.clusters.merge(stories[1], stories[0], 1)
    store.db.conn.set_trace_callback(None)
    whole = {}
    for sql in statements:
        if not re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)", sql, re.IGNORECASE):
            continue  # an INSERT's plan lists the foreign-key checks SQLite skips while none is broken
        names = _tables_by_name(sql)
        plan = [row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()]
        scans = [m[1] for step in plan if (m := re.fullmatch(r"SCAN (\w+)", step))]
        if read_whole := [name for name in scans if names.get(name) in _GROWING]:
            whole[" ".join(sql.split())[:160]] = read_whole
    store.close()
    assert len(statements) > 50 and not whole, whole


def test_a_store_keeps_more_of_its_pages_in_memory_than_sqlites_default(store: Store) -> None:
    # Placing an article reads and writes pages all over the store; with SQLite's 2 MB most came
    # from the OS at each statement (benchmarks/store_cache.py prints what the cache saves).
    kib = -int(store.db.execute("PRAGMA cache_size").fetchone()[0])
    assert kib >= 65_536
