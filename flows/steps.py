"""The work of each stage of a run, without Prefect: each step opens the store it needs, does
its stage and logs to the logger it is given.

The Prefect flows (flows/pipeline.py) wrap these steps as tasks, logging through the run's
logger; `wirewatch ingest` and `alerts --retry` call them directly (flows/direct.py), so a
command on a few files needs neither Prefect's import nor a temporary server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import CommitReport, DeliveryReport, LiveIndex, commit_articles, deliver_alerts
from wirewatch.flows.extract_pool import (
    MIN_PARALLEL_READINGS,
    BatchResult,
    ExtractionStream,
    ReadingOnCores,
    extract_on_cores,
    worker_count,
)
from wirewatch.flows.stages import (
    FeedPoll,
    StageReport,
    extract_articles,
    fetch_pages,
    poll_feeds,
    read_files,
    strip_source_templates,
)
from wirewatch.flows.watchlist_screens import screen_of
from wirewatch.records import FeedEntry, FeedOutcome, NewArticle, Page, RunSummary
from wirewatch.settings import Settings
from wirewatch.store import Store, open_store
from wirewatch.timeutil import utc_now

Log = logging.Logger | logging.LoggerAdapter[Any]

# Pages per extract task: enough that per-task overhead is small, few enough that a run's
# pages spread over the task runner's workers (threads, or a Dask cluster's processes).
EXTRACT_BATCH_PAGES = 25


@contextmanager
def opened(settings: Settings) -> Iterator[Store]:
    store = open_store(settings.database)
    try:
        yield store
    finally:
        store.close()


def log_lines(log: Log, stage: str, report: StageReport) -> None:
    for line in report.notes:
        log.info("%s: %s", stage, line)
    for line in report.errors:
        log.error("%s", line)


def log_report(log: Log, stage: str, report: StageReport) -> None:
    log_lines(log, stage, report)
    log.info("%s: %d done, %d failed, %d skipped", stage, report.done, report.failed, report.skipped)


def poll(settings: Settings, force: bool, log: Log) -> FeedPoll:
    with opened(settings) as store, Fetcher(settings.fetch) as fetcher:
        result = poll_feeds(settings.feeds, store, fetcher, utc_now(), force=force)
    log_report(log, "poll-feeds", result.report)
    return result


def fetch(settings: Settings, entries: list[FeedEntry], log: Log) -> tuple[list[Page], StageReport]:
    with opened(settings) as store, Fetcher(settings.fetch) as fetcher:
        pages, report = fetch_pages(entries, store, fetcher)
    log_report(log, "fetch-pages", report)
    return pages, report


class ExtractProgress:
    """Logs each extracted chunk's notes and errors and the pages done so far, then the stage's
    outcome: the one log of every way of extracting on worker processes."""

    def __init__(self, log: Log, total: int = 0) -> None:
        self.log = log
        self.total, self.done, self.failed = total, 0, 0

    def __call__(self, result: BatchResult) -> None:
        report = result[1]
        log_lines(self.log, "extract", report)
        self.done += report.done
        self.failed += report.failed
        self.log.info("extract: %d/%d pages", self.done + self.failed, self.total)

    def finish(self, fallback: str | None) -> None:
        if fallback:
            self.log.warning("extract: %s", fallback)
        self.log.info("extract: %d done, %d failed, 0 skipped", self.done, self.failed)


def fetch_and_extract(
    settings: Settings, entries: list[FeedEntry], workers: int, log: Log
) -> tuple[StageReport, list[BatchResult]]:
    """Fetch the pages and extract them on worker processes as they arrive: the cores extract
    while the network is waited for."""
    progress = ExtractProgress(log)
    with opened(settings) as store:
        # Enough entries for their articles to be read on workers next: those start warm.
        warm = len(entries) >= MIN_PARALLEL_READINGS
        with (
            Fetcher(settings.fetch) as fetcher,
            ExtractionStream(workers, progress, warm_readers=warm) as stream,
        ):
            pages, report = fetch_pages(entries, store, fetcher, on_page=stream.add)
            log_report(log, "fetch-pages", report)
            progress.total = len(pages)
            log.info("extract: %d pages on %d worker processes, from their arrival", len(pages), workers)
            results = stream.results()
    progress.finish(stream.fallback)
    return report, results


def read(paths: list[Path], source: str | None, log: Log) -> tuple[list[Page], StageReport]:
    pages, report = read_files(paths, source)
    log_report(log, "read-files", report)
    return pages, report


def extract_batch(pages: list[Page], log: Log) -> BatchResult:
    """Pure CPU work with no store and no network: it may run on any Dask worker."""
    articles, report = extract_articles(pages)
    log_report(log, "extract", report)
    return articles, report


def extract_on_processes(pages: list[Page], workers: int, log: Log) -> list[BatchResult]:
    """The pages on a pool of worker processes, one per core: threads would share one core
    (trafilatura holds the GIL)."""
    log.info("extract: %d pages on %d worker processes", len(pages), workers)
    progress = ExtractProgress(log, len(pages))
    results, fallback = extract_on_cores(pages, workers, progress)
    progress.finish(fallback)
    return results


def workers_for(settings: Settings, pages: int) -> int:
    """Worker processes for this many pages: 0 for one batch or one core."""
    workers = worker_count(settings.extract.workers)
    return workers if workers > 1 and pages > EXTRACT_BATCH_PAGES else 0


def strip_templates(settings: Settings, articles: list[NewArticle], log: Log) -> list[NewArticle]:
    with opened(settings) as store:
        articles, report = strip_source_templates(articles, store.articles.source_paragraph_counts)
    log_report(log, "source-templates", report)
    return articles


def collected(results: list[BatchResult]) -> tuple[list[NewArticle], StageReport]:
    """The batches' articles and reports as one."""
    articles: list[NewArticle] = []
    report = StageReport()
    for batch_articles, batch_report in results:
        articles.extend(batch_articles)
        report.done += batch_report.done
        report.failed += batch_report.failed
        report.errors.extend(batch_report.errors)
        report.notes.extend(batch_report.notes)
    return articles, report


def commit(
    settings: Settings,
    articles: list[NewArticle],
    feed_outcomes: list[FeedOutcome] | None,
    fingerprint_workers: int,
    log: Log,
) -> CommitReport:
    """Store, cluster and match the articles; they are read (fingerprints, sentences, anchors) on
    `fingerprint_workers` worker processes when the run's extraction started them (its fork
    server is running: a cold one takes 2-3 s to start, more than reading a few thousand articles
    saves)."""
    # The index is loaded under the store's write lock (LiveIndex), not before it: an
    # overlapping run's articles are then in it.
    index = LiveIndex(settings.stories.window_days * 86400)
    with opened(settings) as store:
        screen = screen_of(settings.watchlists, log.warning)
        with ReadingOnCores(fingerprint_workers, log.info, log.warning) as reader:
            report = commit_articles(
                articles,
                store,
                index,
                settings.topics,
                settings.alerts,
                utc_now(),
                feed_outcomes,
                reader,
                screen,
            )
    for articles_in, seconds in index.loads:
        log.info(
            "story index: %d articles of the last %g days loaded in %.1f s",
            articles_in,
            settings.stories.window_days,
            seconds,
        )
    log.info(
        "stored %d new articles (%d already stored), %d new clusters, %d topic matches, %d alerts queued",
        report.new_articles,
        report.duplicates_skipped,
        report.new_clusters,
        report.topic_matches,
        report.alerts_queued,
    )
    return report


def deliver(settings: Settings, force: bool, log: Log) -> DeliveryReport:
    with opened(settings) as store:
        report = deliver_alerts(store, settings.alerts, utc_now(), force=force)
    for line in report.errors:
        log.warning("%s", line)
    log.info("alerts: %d sent, %d pending, %d failed", report.sent, report.pending, report.failed)
    return report


def summarise(
    settings: Settings,
    stages: list[StageReport],
    commit_report: CommitReport,
    delivery: DeliveryReport,
    feeds: StageReport | None,
) -> RunSummary:
    with opened(settings) as store:
        clusters = store.count("clusters", "WHERE merged_into IS NULL")
        pending = store.count("alerts", "WHERE status = 'pending'")
    return RunSummary(
        feeds_fetched=feeds.done if feeds else 0,
        feeds_failed=feeds.failed if feeds else 0,
        new_articles=commit_report.new_articles,
        clusters=clusters,
        new_clusters=commit_report.new_clusters,
        topic_matches=commit_report.topic_matches,
        alerts_queued=commit_report.alerts_queued,
        alerts_sent=delivery.sent,
        alerts_pending=pending,
        errors=tuple(e for s in stages for e in s.errors) + tuple(delivery.errors),
    )


def start_run(settings: Settings, kind: str) -> int:
    with opened(settings) as store:
        return store.feeds.start_run(kind)


def finish_run(settings: Settings, run_id: int, summary: RunSummary) -> None:
    with opened(settings) as store:
        status = "completed_with_errors" if summary.errors else "completed"
        store.feeds.finish_run(run_id, status, asdict(summary))


def ingest(settings: Settings, paths: list[Path], source: str | None, log: Log) -> RunSummary:
    """Saved pages (.html, .txt) through extract, cluster, match and alert, in this process (or
    on worker processes for many files)."""
    run_id = start_run(settings, "ingest")
    pages, read_report = read(paths, source, log)
    workers = workers_for(settings, len(pages))
    if workers:
        results = extract_on_processes(pages, workers, log)
    else:
        results = [extract_batch(pages, log)] if pages else []
    articles, extract_report = collected(results)
    articles = strip_templates(settings, articles, log)
    commit_report = commit(settings, articles, None, workers, log)
    delivery = deliver(settings, False, log)
    summary = summarise(settings, [read_report, extract_report], commit_report, delivery, None)
    finish_run(settings, run_id, summary)
    return summary
