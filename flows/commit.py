"""Storing a batch of articles with their fingerprints, clusters, topic matches and alerts in one
transaction, and delivering queued alerts afterwards (the outbox pattern)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts.delivery import channels_from, payload_of, render_digest, render_message
from alerts.policy import alert_key
from dedup import CandidateDetails, StoryIndex, decide_placement, fingerprint_text
from dedup.headline import MAX_TITLES, representative_title
from store import Store
from wirewatch.config import AlertSettings, TopicConfig
from wirewatch.records import FeedOutcome, NewArticle, Placement, StoredAlert


@dataclass
class CommitReport:
    new_articles: int = 0
    pages_recovered: int = 0  # feed-only articles that got their page's text
    duplicates_skipped: int = 0
    new_clusters: int = 0
    topic_matches: int = 0
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


def load_index(store: Store) -> StoryIndex:
    """Rebuild the LSH index from stored fingerprints (the store is the source of truth)."""
    index = StoryIndex()
    for article_id, shingle_bytes, salient_bytes in store.iter_fingerprints():
        index.add(article_id, shingle_bytes, salient_bytes)
    return index


def commit_articles(
    articles: list[NewArticle],
    store: Store,
    index: StoryIndex,
    topics: tuple[TopicConfig, ...],
    alerts: AlertSettings,
    now: datetime,
    feed_outcomes: list[FeedOutcome] | None = None,
) -> CommitReport:
    """Store new articles and everything they cause, all or nothing.

    The alert rows are written in the same transaction as the article and cluster that caused
    them, so a run killed at any point leaves either all of it or none of it. An article first
    stored from its feed entry alone gets its page's text when a later run can fetch it. The
    feeds' new state (validators, next fetch) is committed with the entries it brought.
    """
    report = CommitReport()
    # Without channels an alert is only a record; queueing it would flood a channel added later.
    initial_status = "pending" if alerts.has_channels else "recorded"
    # A stable order (time, then URL) keeps ids and cluster choices the same between runs.
    ordered = sorted(articles, key=lambda a: (a.published.isoformat() if a.published else "", a.url))
    with store.atomic():
        for article in ordered:
            article_id = store.insert_article(article, now)
            if article_id is None:
                upgraded = _revisit_stored(article, store, now)
                if upgraded is None:
                    report.duplicates_skipped += 1
                    continue
                report.pages_recovered += 1
                article_id, cluster_id, placement = upgraded
            else:
                store.count_source_paragraphs(article.source, article.paragraph_keys)
                cluster_id, is_new, placement = _place(article_id, article, store, index)
                report.new_articles += 1
                report.new_clusters += int(is_new)
                report.article_ids.append(article_id)
            _match_topics(article_id, cluster_id, placement, store, topics, initial_status, now, report)
        store.record_feed_outcomes(feed_outcomes or [])
    return report


def _place(
    article_id: int, article: NewArticle, store: Store, index: StoryIndex
) -> tuple[int, bool, Placement]:
    """Fingerprint the article, find its candidates, decide its cluster and record all of it."""
    fp = fingerprint_text(article.title, article.text)
    details = store.load_fingerprint_details(index.candidates(fp))
    candidates = [
        CandidateDetails(aid, frozenset(row["words"].split()), row["shingle_hashes"])
        for aid, row in sorted(details.items())
    ]
    placement = decide_placement(fp, candidates)
    shingle_bytes, salient_bytes = fp.shingle_bytes(), fp.salient_bytes()
    store.save_fingerprint(article_id, shingle_bytes, salient_bytes, " ".join(sorted(fp.words)))
    cluster_id, is_new = store.place_article(article_id, placement)
    if not is_new:
        titles = store.cluster_titles(cluster_id, limit=MAX_TITLES)
        store.set_headline(cluster_id, representative_title(titles))
    index.add(article_id, shingle_bytes, salient_bytes)
    return cluster_id, is_new, placement


def _revisit_stored(article: NewArticle, store: Store, now: datetime) -> tuple[int, int, Placement] | None:
    """A stored URL again: count another failed page attempt, or upgrade a feed-only article to
    its page's text (it keeps its cluster; its fingerprint is refreshed for later arrivals)."""
    if article.from_feed_only:
        store.record_page_failure(article.url, article.page_error or "page unavailable")
        return None
    article_id = store.upgrade_feed_only(article, now)
    if article_id is None:
        return None
    fp = fingerprint_text(article.title, article.text)
    store.replace_fingerprint(article_id, fp.shingle_bytes(), fp.salient_bytes(), " ".join(sorted(fp.words)))
    stored = store.article_placement(article_id)
    return article_id, stored[0], stored[1]


def _match_topics(
    article_id: int,
    cluster_id: int,
    placement: Placement,
    store: Store,
    topics: tuple[TopicConfig, ...],
    initial_status: str,
    now: datetime,
    report: CommitReport,
) -> None:
    modes = {t.name: t.mode for t in topics}
    for topic in store.matching_topics(article_id, {t.name: t.query for t in topics}):
        if not store.record_match(topic, article_id, cluster_id, now):
            continue  # matched before (an upgraded article): its alert, if any, exists
        report.topic_matches += 1
        matched = placement.matched_article_id
        key = alert_key(
            topic,
            modes[topic],
            cluster_id,
            article_id,
            placement,
            cluster_alerted=store.topic_has_alert(topic, cluster_id),
            match_alerted=matched is not None and store.article_has_alert(topic, matched),
        )
        # A story the reader muted in the review page raises no further alerts.
        if key is None or store.cluster_is_muted(cluster_id):
            continue
        alert_id = store.queue_alert(key, topic, modes[topic], cluster_id, article_id, initial_status, now)
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
    for alert in store.due_alerts(now, force=force):
        if alert.cluster_id is not None and store.cluster_is_muted(alert.cluster_id):
            store.mark_alert_muted(alert.id)  # muted after it was queued: the reader said no
            report.muted += 1
            continue
        key = f"digest:{alert.topic}" if alert.mode == "digest" else alert.key
        batches.setdefault(key, []).append(alert)
    for key, batch in batches.items():
        messages = [store.alert_message(a) for a in batch]
        if key.startswith("digest:"):
            title, body = render_digest(batch[0].topic, messages)
        else:
            title, body = render_message(messages[0])
        payload = payload_of(messages)
        errors = []
        delivered = [store.delivered_channels(a.id) for a in batch]
        for channel in channels:
            if all(channel.id in done for done in delivered):
                continue
            outcome = channel.send(title, body, payload)
            if outcome.ok:
                for alert in batch:
                    store.record_channel_delivery(alert.id, channel.id, now)
            else:
                errors.append(outcome.error or channel.label)
        for alert in batch:
            _settle(store, alert, errors, now, alerts.max_attempts, report)
    return report


def _settle(
    store: Store,
    alert: StoredAlert,
    errors: list[str],
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    if not errors:
        store.mark_alert_sent(alert.id, now)
        report.sent += 1
        return
    status = store.mark_alert_failed(alert.id, "; ".join(errors), now, max_attempts)
    report.errors.extend(f"alert {alert.id} ({alert.topic}): {e}" for e in errors)
    if status == "failed":
        report.failed += 1
    else:
        report.pending += 1
