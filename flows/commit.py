"""Storing a batch of articles with their fingerprints, clusters, topic matches and alerts, a
chunk of articles per transaction, and delivering queued alerts afterwards (the outbox pattern)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from wirewatch.alerts.delivery import channels_from, payload_of, render_digest, render_message
from wirewatch.alerts.messages import alert_message
from wirewatch.alerts.policy import after_failure, alert_key
from wirewatch.dedup import Fingerprint, StoryIndex
from wirewatch.dedup.fingerprint import fingerprint_many
from wirewatch.dedup.headline import MAX_TITLES, representative_title
from wirewatch.dedup.index import STORY_WINDOW_SECONDS, article_time, new_entry
from wirewatch.dedup.merges import surviving_cluster
from wirewatch.dedup.novelty import Novelty
from wirewatch.dedup.reading import ArticleReading, ArticleText, read_in_chunks
from wirewatch.dedup.related import other_languages
from wirewatch.dedup.stored_form import stored_fingerprint
from wirewatch.dedup.summary import MAX_EARLY, MAX_LATE, story_summary
from wirewatch.flows.developments import StoryStatements, queue_development
from wirewatch.flows.story_links import link_stories
from wirewatch.records import FeedOutcome, NewArticle, Placement, StoredAlert
from wirewatch.settings import AlertSettings, TopicConfig
from wirewatch.store import Store
from wirewatch.timeutil import parse_iso, to_iso, utc_now
from wirewatch.watchlists import Screen

Reader = Callable[[list[ArticleText]], Iterable[ArticleReading]]

# Fingerprints computed again after a schema upgrade are committed this many at a time.
REFINGERPRINT_BATCH = 500
# New articles stored per transaction: a feed of 100,000 entries is committed in steps of
# bounded size and time (one transaction for all grew superlinearly), and a run killed midway
# keeps what it committed (the feed's validators come last, so its entries are read again).
COMMIT_CHUNK = 500
# The first chunks are smaller, each twice the one before: the index takes a chunk's readings
# whole, so placing starts once 100 are read, not 500, and while it places a chunk the workers
# read the next, twice as large (they read 2-3x as fast as one process places). With 500 from
# the start, placing waited for readings 10% of a 1,000-article commit on two workers.
FIRST_COMMIT_CHUNK = 100
# Python's cycle collector while placing: a young collection every 50,000 net allocations of
# containers, not 700. Placing makes and drops many small ones (readings from the workers,
# sentences, term sets) that reference counting frees. At the default the collector ran 4,452
# young and 39 full collections (each walks the whole heap) in a benchmark committing 30,000
# synthetic articles: 6.6 s beside 78 s of commits. With this: 1.7 s.
PLACING_GC_THRESHOLD = (50_000, 20, 100)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*PLACING_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass
class CommitReport:
    new_articles: int = 0
    pages_recovered: int = 0  # feed-only articles that got their page's text
    duplicates_skipped: int = 0
    new_clusters: int = 0
    topic_matches: int = 0
    watchlist_hits: int = 0
    alerts_queued: int = 0
    article_ids: list[int] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)


@dataclass
class DeliveryReport:
    sent: int = 0
    pending: int = 0
    failed: int = 0
    muted: int = 0
    errors: list[str] = field(default_factory=list)


def load_index(store: Store, window_seconds: float = STORY_WINDOW_SECONDS) -> StoryIndex:
    """Rebuild the LSH index from the recent stored fingerprints (the store is the source of truth).

    Articles of the window stored without a fingerprint (after a schema upgrade) get theirs first.
    """
    _fingerprint_missing(store, window_seconds)
    index = StoryIndex(window_seconds)
    index.add_stored(store.articles.recent_fingerprints(index.window))
    return index


def _fingerprint_missing(store: Store, window_seconds: float) -> None:
    """Fingerprints for the articles a schema upgrade left without one, newest first, down to the
    story window's start: older ones are never read into an index, and a store of a million
    articles would take a quarter of an hour (the window's 21,000 take about 20 s)."""
    below: int | None = None
    newest: float | None = None  # the newest article's arrival: the window ends there
    while missing := store.articles.without_fingerprint(REFINGERPRINT_BATCH, below):
        arrivals: list[float] = []
        with store.atomic():
            fps = fingerprint_many([(title, text) for _, title, text, _, _ in missing])
            for (article_id, _, _, published, fetched), fp in zip(missing, fps, strict=True):
                fetched_at = parse_iso(fetched) or utc_now()
                seen = article_time(parse_iso(published), fetched_at)
                entry = new_entry(article_id, None, fp, seen, fetched_at.timestamp())
                store.articles.save_fingerprint(stored_fingerprint(entry))
                arrivals.append(entry.arrived)
        newest = arrivals[0] if newest is None else newest
        if arrivals[-1] < newest - window_seconds:
            return
        below = missing[-1][0]


class LiveIndex:
    """The story index in step with the store across transactions: loaded under the write lock,
    and loaded again when another connection (an overlapping run) has written since, so a
    second writer places its articles among the first one's instead of beside them."""

    def __init__(self, window_seconds: float = STORY_WINDOW_SECONDS, index: StoryIndex | None = None) -> None:
        self.window_seconds = window_seconds
        self.index = index
        self._version: int | None = None
        self.loads: list[tuple[int, float]] = []  # (articles, seconds) of each load, for the log

    def under_lock(self, store: Store) -> StoryIndex:
        """The index to place with; call it inside the transaction that writes (store.atomic)."""
        version = store.data_version()
        if self.index is None or (self._version is not None and version != self._version):
            started = time.perf_counter()
            self.index = load_index(store, self.window_seconds)
            self.loads.append((len(self.index), time.perf_counter() - started))
        self._version = version
        return self.index


@_fewer_collections()
def commit_articles(
    articles: list[NewArticle],
    store: Store,
    index: StoryIndex | LiveIndex,
    topics: tuple[TopicConfig, ...],
    alerts: AlertSettings,
    now: datetime,
    feed_outcomes: list[FeedOutcome] | None = None,
    reader: Reader = read_in_chunks,
    screen: Screen | None = None,
) -> CommitReport:
    """Store new articles and everything they cause, COMMIT_CHUNK articles per transaction.

    The alert rows are written in the same transaction as the article and cluster that caused
    them, so a run killed at any point leaves each article with all of it or none of it. An article first
    stored from its feed entry alone gets its page's text when a later run can fetch it. The
    feeds' new state (validators, next fetch) is committed with the entries it brought.
    `reader` turns (title, text, language) into readings (fingerprint, sentences, anchors:
    dedup.reading), in order (in this process by default; flows.extract_pool.ReadingOnCores on
    worker processes).
    """
    report = CommitReport()
    live = index if isinstance(index, LiveIndex) else LiveIndex(index.window, index)
    # Without channels an alert is only a record; queueing it would flood a channel added later.
    initial_status = "pending" if alerts.has_channels else "recorded"
    # A stable order (time, then URL) keeps ids and cluster choices the same between runs.
    ordered = sorted(articles, key=lambda a: (a.published.isoformat() if a.published else "", a.url))
    readings = iter(reader([(a.title, a.text, a.language) for a in ordered]))
    statements = StoryStatements(store)  # what each story has said, across the chunks
    for start, end in commit_chunks(len(ordered)):
        chunk = ordered[start:end]
        last = end >= len(ordered)
        with store.atomic():
            if not chunk:  # a run with nothing new records its feeds without opening the index
                store.feeds.record_outcomes(feed_outcomes or [])
                break
            story_index = live.under_lock(store)
            pairs = list(zip(chunk, islice(readings, len(chunk)), strict=True))
            # The index works out what the stored articles answer for the whole chunk first.
            story_index.open_chunk(
                [reading.fingerprint for _, reading in pairs],
                [article_time(article.published, now) for article, _ in pairs],
                [now.timestamp()] * len(pairs),
            )
            grown: set[int] = set()  # clusters that gained an article: their headline is chosen again
            touched: set[int] = set()  # clusters new or grown: their cross-language links are found again
            statements.sync()
            # The chunk's new articles are stored before any is placed: the full-text index takes
            # their terms in one go, and each topic is searched once for all of them.
            new_ids = [_store_new(article, store, now) for article, _ in pairs]
            matches = _chunk_matches(new_ids, topics, store)
            for (article, reading), new_id in zip(pairs, new_ids, strict=True):
                placed = _commit_one(article, new_id, reading.fingerprint, store, story_index, now, report)
                if placed is None:
                    continue
                article_id, cluster_id, placement, joined, stored_now = placed
                if joined:
                    grown.add(cluster_id)
                touched.add(cluster_id)
                store.links.save_anchors(article_id, reading.anchors, fresh=stored_now)
                store.articles.save_statements(article_id, reading.statements)
                # What it adds to its story; an upgraded feed-only article was measured when stored.
                found = statements.record(reading, article_id, cluster_id, placement) if stored_now else None
                _match_topics(
                    article,
                    article_id,
                    cluster_id,
                    placement,
                    store,
                    topics,
                    initial_status,
                    now,
                    report,
                    found,
                    matches.get(article_id, []) if stored_now else None,
                )
                if screen is not None:
                    _screen_names(article, article_id, cluster_id, store, screen, initial_status, now, report)
            story_index.close_chunk()
            _refresh_headlines(grown, store)
            link_stories(touched, store)
            if last:
                store.feeds.record_outcomes(feed_outcomes or [])
    return report


def commit_chunks(count: int) -> list[tuple[int, int]]:
    """The (start, end) of each transaction of a commit of `count` articles (one, empty, for none)."""
    bounds: list[tuple[int, int]] = []
    start, size = 0, FIRST_COMMIT_CHUNK
    while not bounds or start < count:
        bounds.append((start, min(count, start + size)))
        start, size = start + size, min(COMMIT_CHUNK, 2 * size)
    return bounds


def _store_new(article: NewArticle, store: Store, now: datetime) -> int | None:
    """Store a new article, unplaced: its id; None when its URL is stored already."""
    article_id = store.articles.insert(article, now)
    if article_id is not None:
        store.articles.count_source_paragraphs(article.source, article.paragraph_keys)
    return article_id


def _chunk_matches(
    new_ids: list[int | None], topics: tuple[TopicConfig, ...], store: Store
) -> dict[int, list[str]]:
    """The topics each new article of a chunk matches (store.outbox.matching_between), by id."""
    stored = [article_id for article_id in new_ids if article_id is not None]
    if not stored or not topics:
        return {}
    return store.outbox.matching_between({t.name: t.query for t in topics}, stored[0], stored[-1])


def _commit_one(
    article: NewArticle,
    article_id: int | None,
    fp: Fingerprint,
    store: Store,
    index: StoryIndex,
    now: datetime,
    report: CommitReport,
) -> tuple[int, int, Placement, bool, bool] | None:
    """Place an article stored now (`article_id`, by _store_new), or upgrade a feed-only one
    stored before: its id, cluster, placement, whether it joined an existing cluster and whether
    it was stored now (not upgraded); None for a copy already stored."""
    if article_id is None:
        upgraded = _revisit_stored(article, fp, store, index, now)
        if upgraded is None:
            report.duplicates_skipped += 1
            return None
        report.pages_recovered += 1
        return (*upgraded, False, False)
    cluster_id, is_new, placement = _place(article_id, article, fp, store, index, now)
    report.new_articles += 1
    report.new_clusters += int(is_new)
    report.article_ids.append(article_id)
    return article_id, cluster_id, placement, not is_new, True


def _place(
    article_id: int, article: NewArticle, fp: Fingerprint, store: Store, index: StoryIndex, now: datetime
) -> tuple[int, bool, Placement]:
    """Find the article's candidates, decide its cluster and record all of it."""
    seen = article_time(article.published, now)
    lsh_hash = index.lsh_hash(fp)
    arrived = now.timestamp()
    placement = index.place(fp, index.candidates(fp, lsh_hash, seen, arrived))
    if placement.tier == "related" and placement.matched_article_id is not None:
        if other_languages(article.language, store.articles.language_of(placement.matched_article_id)):
            # A rewrite in another language is the same event told again, not the same story:
            # it starts its own, linked to the other (flows.story_links). A copy stays a copy.
            placement = Placement(matched_article_id=None, tier="original", score=0.0, basis="other_language")
    published = to_iso(article.published or now) or ""
    cluster_id, is_new, merged = place_article(store, article_id, published, placement)
    for other in merged:  # the index follows the merges of the clusters this article bridged
        index.merge(other, cluster_id)
    entry = new_entry(article_id, cluster_id, fp, seen, arrived, lsh_hash)
    store.articles.save_fingerprint(stored_fingerprint(entry))
    index.add(entry)
    return cluster_id, is_new, placement


def place_article(
    store: Store, article_id: int, seen: str, placement: Placement
) -> tuple[int, bool, list[int]]:
    """Record dedup's decision for a stored article: it starts a new cluster, or joins
    `placement.story` after the clusters it bridges (`placement.merges`) are merged into the one
    dedup.merges keeps. `seen` is the article's date (or fetch time).

    Returns the article's cluster, whether it is new, and the clusters merged into it.
    """
    if placement.story is None:
        target, merged = store.clusters.create(article_id, seen), []
    else:
        live = {store.clusters.live(c) for c in (placement.story, *placement.merges)}
        target = surviving_cluster(live)
        merged = sorted(live - {target})
        for other in merged:
            store.clusters.merge(other, into=target, article_id=article_id)
        store.clusters.widen(target, seen)
    store.clusters.place(article_id, target, placement)
    return target, placement.story is None, merged


def _refresh_headlines(clusters: set[int], store: Store) -> None:
    """Choose again the headline of each cluster that grew, once per batch: twenty outlets running
    one story in a poll cost one choice, not twenty."""
    for cluster_id in sorted({store.clusters.live(c) for c in clusters}):
        store.clusters.set_headline(
            cluster_id, representative_title(store.clusters.titles(cluster_id, limit=MAX_TITLES))
        )


def _revisit_stored(
    article: NewArticle, fp: Fingerprint, store: Store, index: StoryIndex, now: datetime
) -> tuple[int, int, Placement] | None:
    """A stored URL again: count another failed page attempt, or upgrade a feed-only article to
    its page's text (it keeps its cluster; its fingerprint is refreshed for later arrivals)."""
    if article.from_feed_only:
        store.feeds.record_page_failure(article.url, article.page_error or "page unavailable")
        return None
    article_id = store.articles.upgrade_feed_only(article, now)
    if article_id is None:
        return None
    old = store.articles.fingerprint_times(article_id)
    seen, arrived = old if old else (article_time(article.published, now), now.timestamp())
    cluster_id, placement = store.clusters.placement_of(article_id)
    entry = new_entry(article_id, cluster_id, fp, seen, arrived, index.lsh_hash(fp))
    store.articles.replace_fingerprint(stored_fingerprint(entry))
    index.remove(article_id)
    index.add(entry)
    return article_id, cluster_id, placement


def _match_topics(
    article: NewArticle,
    article_id: int,
    cluster_id: int,
    placement: Placement,
    store: Store,
    topics: tuple[TopicConfig, ...],
    initial_status: str,
    now: datetime,
    report: CommitReport,
    found: Novelty | None = None,
    matched_topics: list[str] | None = None,
) -> None:
    """Record the article's topic matches and queue their alerts. `matched_topics`: the topics it
    matches, when the chunk's search found them (_chunk_matches); else it is searched alone."""
    # A topic with `languages` takes articles in those only.
    topics = tuple(t for t in topics if not t.languages or article.language in t.languages)
    by_name = {t.name: t for t in topics}
    if matched_topics is None:
        queries = {name: t.query for name, t in by_name.items()}
        matched_topics = store.outbox.matching_topics(article_id, queries, article.language)
    for topic in (name for name in matched_topics if name in by_name):
        mode = by_name[topic].mode
        if not store.outbox.record_match(topic, article_id, cluster_id, now):
            continue  # matched before (an upgraded article): its alert, if any, exists
        report.topic_matches += 1
        if mode == "developments" and store.outbox.topic_has_alert(topic, cluster_id):
            if found is not None and placement.story is not None:
                queued = queue_development(
                    by_name[topic],
                    article,
                    article_id,
                    cluster_id,
                    found,
                    store,
                    initial_status,
                    now,
                )
                if queued is not None:
                    report.alerts_queued += 1
                    report.alert_ids.append(queued)
            continue
        matched = placement.matched_article_id
        key = alert_key(
            topic,
            mode,
            cluster_id,
            article_id,
            placement,
            cluster_alerted=store.outbox.topic_has_alert(topic, cluster_id),
            match_alerted=matched is not None and store.outbox.article_has_alert(topic, matched),
        )
        # A story the reader muted in the review page raises no further alerts.
        if key is None or store.review.is_muted(cluster_id):
            continue
        alert_id = store.outbox.queue(
            key, topic, mode, cluster_id, article_id, initial_status, now, kind=_KINDS[mode]
        )
        if alert_id is not None:
            report.alerts_queued += 1
            report.alert_ids.append(alert_id)


# What an alert of each topic mode is (alerts --json `kind`); developments' later ones are
# "development" (flows.developments).
_KINDS = {
    "new_story": "new_story",
    "developments": "new_story",
    "digest": "digest",
    "every_article": "article",
}


def _screen_names(
    article: NewArticle,
    article_id: int,
    cluster_id: int,
    store: Store,
    screen: Screen,
    initial_status: str,
    now: datetime,
    report: CommitReport,
) -> None:
    """Record each listed entity the article names; the first article of a story to name an
    entity raises that watchlist's alert for it, later ones join its article list."""
    for hit in screen.hits(article.title, article.text):
        if not store.outbox.record_entity_hit(hit, article_id, cluster_id, now):
            continue
        report.watchlist_hits += 1
        if store.review.is_muted(cluster_id):
            continue
        key = f"watchlist:{hit.list_name}:{hit.entity_id}:{cluster_id}"
        alert_id = store.outbox.queue(
            key,
            hit.list_name,
            "watchlist",
            cluster_id,
            article_id,
            initial_status,
            now,
            hit,
            kind="watchlist",
        )
        if alert_id is not None:
            report.alerts_queued += 1
            report.alert_ids.append(alert_id)


def deliver_alerts(
    store: Store, alerts: AlertSettings, now: datetime, *, force: bool = False
) -> DeliveryReport:
    """Send every due alert to each channel that has not had it yet.

    Digest topics get one message per topic and run listing their new stories; other topics one
    message per alert.
    """
    report = DeliveryReport()
    channels = channels_from(alerts)
    if not channels:
        return report
    batches: dict[str, list[StoredAlert]] = {}
    summaries: dict[int, tuple[str, ...]] = {}  # each story's, once per delivery
    for alert in store.outbox.due(now, force=force):
        if alert.cluster_id is not None and store.review.is_muted(alert.cluster_id):
            store.outbox.mark_muted(alert.id)  # muted after it was queued: the reader said no
            report.muted += 1
            continue
        key = f"digest:{alert.topic}" if alert.mode == "digest" else alert.key
        batches.setdefault(key, []).append(alert)
    for key, batch in batches.items():
        messages = [
            alert_message(
                a, store.outbox.subject(a), alerts.review_url, _summary(store, a.cluster_id, summaries)
            )
            for a in batch
        ]
        if key.startswith("digest:"):
            title, body = render_digest(batch[0].topic, messages)
        else:
            title, body = render_message(messages[0])
        payload = payload_of(messages)
        errors = []
        delivered = [store.outbox.delivered_channels(a.id) for a in batch]
        for channel in channels:
            if all(channel.id in done for done in delivered):
                continue
            outcome = channel.send(title, body, payload)
            if outcome.ok:
                for alert in batch:
                    store.outbox.record_delivery(alert.id, channel.id, now)
            else:
                errors.append(outcome.error or channel.label)
        for alert in batch:
            _settle(store, alert, errors, now, alerts.max_attempts, report)
    return report


def _summary(store: Store, cluster_id: int | None, known: dict[int, tuple[str, ...]]) -> tuple[str, ...]:
    """The story's summary (dedup.summary) for the top of its alerts."""
    if cluster_id is None:
        return ()
    if cluster_id not in known:
        # Only the members the summary reads (its earliest and latest), not every text of the story.
        members = store.articles.story_texts(store.clusters.live(cluster_id), first=MAX_EARLY, last=MAX_LATE)
        known[cluster_id] = tuple(story_summary([(source, text) for source, _, text in members]))
    return known[cluster_id]


def _settle(
    store: Store,
    alert: StoredAlert,
    errors: list[str],
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    if not errors:
        store.outbox.mark_sent(alert.id, now)
        report.sent += 1
        return
    # Counted in one transaction: alerts.policy decides the next attempt, the store records it.
    with store.atomic():
        failed = after_failure(store.outbox.attempts(alert.id) + 1, now, max_attempts)
        store.outbox.record_failure(
            alert.id,
            status=failed.status,
            attempts=failed.attempts,
            next_attempt=failed.next_attempt,
            error="; ".join(errors),
        )
    report.errors.extend(f"alert {alert.id} ({alert.topic}): {e}" for e in errors)
    if failed.status == "failed":
        report.failed += 1
    else:
        report.pending += 1
