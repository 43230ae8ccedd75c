"""wirewatch's Prefect flows: poll feeds -> fetch pages -> extract -> store, cluster, match ->
deliver alerts. `ingest_flow` runs saved files through the same stages after the fetch.

Tasks work on batches. Network retries happen per feed across runs (the store keeps each feed's
backoff), so one bad feed never fails a task and there are no task-level retries here.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import CommitReport, DeliveryReport, commit_articles, deliver_alerts, load_index
from wirewatch.flows.extract_pool import (
    BatchResult,
    ExtractionStream,
    FingerprintsOnCores,
    extract_on_cores,
    worker_count,
)
from wirewatch.flows.report import publish_run_artifact
from wirewatch.flows.stages import (
    FeedPoll,
    StageReport,
    extract_articles,
    fetch_pages,
    poll_feeds,
    read_files,
    strip_source_templates,
)
from wirewatch.store import open_store

from wirewatch.config import load_settings
from wirewatch.demo_server import demo_settings
from wirewatch.errors import WirewatchError
from wirewatch.records import FeedEntry, FeedOutcome, NewArticle, Page, RunSummary
from wirewatch.settings import Settings
from wirewatch.timeutil import utc_now


def _log_lines(stage: str, report: StageReport) -> None:
    logger = get_run_logger()
    for line in report.notes:
        logger.info("%s: %s", stage, line)
    for line in report.errors:
        logger.error("%s", line)


def _log_report(stage: str, report: StageReport) -> None:
    _log_lines(stage, report)
    get_run_logger().info(
        "%s: %d done, %d failed, %d skipped", stage, report.done, report.failed, report.skipped
    )


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds_task(settings: Settings, force: bool) -> FeedPoll:
    store = open_store(settings.database)
    try:
        with Fetcher(settings.fetch) as fetcher:
            poll = poll_feeds(settings.feeds, store, fetcher, utc_now(), force=force)
    finally:
        store.close()
    _log_report("poll-feeds", poll.report)
    return poll


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages_task(settings: Settings, entries: list[FeedEntry]) -> tuple[list[Page], StageReport]:
    store = open_store(settings.database)
    try:
        with Fetcher(settings.fetch) as fetcher:
            pages, report = fetch_pages(entries, store, fetcher)
    finally:
        store.close()
    _log_report("fetch-pages", report)
    return pages, report


class _ExtractProgress:
    """Logs each extracted chunk's notes and errors and the pages done so far, then the stage's
    outcome: the one log of both ways of extracting on worker processes."""

    def __init__(self, total: int = 0) -> None:
        self.total, self.done, self.failed = total, 0, 0

    def __call__(self, result: BatchResult) -> None:
        report = result[1]
        _log_lines("extract", report)
        self.done += report.done
        self.failed += report.failed
        get_run_logger().info("extract: %d/%d pages", self.done + self.failed, self.total)

    def finish(self, fallback: str | None) -> None:
        logger = get_run_logger()
        if fallback:
            logger.warning("extract: %s", fallback)
        logger.info("extract: %d done, %d failed, 0 skipped", self.done, self.failed)


@task(name="fetch-and-extract", cache_policy=NO_CACHE)
def fetch_and_extract_task(
    settings: Settings, entries: list[FeedEntry], workers: int
) -> tuple[StageReport, list[BatchResult]]:
    """Fetch the pages and extract them on worker processes as they arrive: the cores extract
    while the network is waited for."""
    progress = _ExtractProgress()
    store = open_store(settings.database)
    try:
        with Fetcher(settings.fetch) as fetcher, ExtractionStream(workers, progress) as stream:
            pages, report = fetch_pages(entries, store, fetcher, on_page=stream.add)
            _log_report("fetch-pages", report)
            progress.total = len(pages)
            get_run_logger().info(
                "extract: %d pages on %d worker processes, from their arrival", len(pages), workers
            )
            results = stream.results()
    finally:
        store.close()
    progress.finish(stream.fallback)
    return report, results


@task(name="read-files", cache_policy=NO_CACHE)
def read_files_task(paths: list[Path], source: str | None) -> tuple[list[Page], StageReport]:
    pages, report = read_files(paths, source)
    _log_report("read-files", report)
    return pages, report


# Pages per extract task: enough that per-task overhead is small, few enough that a run's
# pages spread over the task runner's workers (threads, or a Dask cluster's processes).
EXTRACT_BATCH_PAGES = 25
DASK_CONNECT_TIMEOUT_S = 10


@task(name="extract", cache_policy=NO_CACHE)
def extract_batch_task(pages: list[Page]) -> tuple[list[NewArticle], StageReport]:
    """Pure CPU work with no store and no network: it may run on any Dask worker."""
    articles, report = extract_articles(pages)
    _log_report("extract", report)
    return articles, report


@task(name="extract-on-processes", cache_policy=NO_CACHE)
def extract_processes_task(pages: list[Page], workers: int) -> list[BatchResult]:
    """The pages on a pool of worker processes, one per core: the default task runner's threads
    would share one core (trafilatura holds the GIL)."""
    get_run_logger().info("extract: %d pages on %d worker processes", len(pages), workers)
    progress = _ExtractProgress(len(pages))
    results, fallback = extract_on_cores(pages, workers, progress)
    progress.finish(fallback)
    return results


def _on_threads() -> bool:
    """True under the default task runner (not a Dask cluster, whose workers are processes)."""
    context = FlowRunContext.get()
    return context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)


@task(name="source-templates", cache_policy=NO_CACHE)
def templates_task(settings: Settings, articles: list[NewArticle]) -> list[NewArticle]:
    store = open_store(settings.database)
    try:
        articles, report = strip_source_templates(articles, store.source_paragraph_counts)
    finally:
        store.close()
    _log_report("source-templates", report)
    return articles


def _on_processes(settings: Settings, pages: int) -> int:
    """Worker processes for this many pages: 0 for one batch, one core, or a Dask runner."""
    workers = worker_count(settings.extract.workers)
    return workers if workers > 1 and pages > EXTRACT_BATCH_PAGES and _on_threads() else 0


def _extract(settings: Settings, pages: list[Page], workers: int) -> tuple[list[NewArticle], StageReport]:
    """Extract on `workers` worker processes (_on_processes), or else in batches on the flow's
    task runner (a Dask cluster's, or this process), then strip templates where the store is."""
    batches = [pages[i : i + EXTRACT_BATCH_PAGES] for i in range(0, len(pages), EXTRACT_BATCH_PAGES)]
    results: list[BatchResult] = []
    if workers:
        results = extract_processes_task(pages, workers)
    elif batches:
        results = extract_batch_task.map(batches).result()
    return _collected(settings, results)


def _fetch_and_extract(
    settings: Settings, entries: list[FeedEntry], workers: int
) -> tuple[StageReport, list[NewArticle], StageReport]:
    """Pages fetched, then extracted; on `workers` worker processes (_on_processes) while they
    arrive when there are many."""
    if workers:
        page_report, results = fetch_and_extract_task(settings, entries, workers)
        return page_report, *_collected(settings, results)
    pages, page_report = fetch_pages_task(settings, entries)
    return page_report, *_extract(settings, pages, workers)  # no more pages than entries


def _collected(settings: Settings, results: list[BatchResult]) -> tuple[list[NewArticle], StageReport]:
    """The batches' articles and reports as one, with the source templates stripped."""
    articles: list[NewArticle] = []
    report = StageReport()
    for batch_articles, batch_report in results:
        articles.extend(batch_articles)
        report.done += batch_report.done
        report.failed += batch_report.failed
        report.errors.extend(batch_report.errors)
        report.notes.extend(batch_report.notes)
    return templates_task(settings, articles), report


@task(name="store-cluster-match", cache_policy=NO_CACHE)
def commit_task(
    settings: Settings,
    articles: list[NewArticle],
    feed_outcomes: list[FeedOutcome] | None = None,
    fingerprint_workers: int = 0,
) -> CommitReport:
    """Store, cluster and match the articles; their fingerprints on `fingerprint_workers` worker
    processes when the run's extraction started them (its fork server is running: a cold one
    takes 2-3 s to start, more than fingerprinting a few thousand articles saves)."""
    store = open_store(settings.database)
    try:
        started = time.perf_counter()
        index = load_index(store, settings.stories.window_days * 86400)
        logger = get_run_logger()
        logger.info(
            "story index: %d articles of the last %g days loaded in %.1f s",
            len(index),
            settings.stories.window_days,
            time.perf_counter() - started,
        )
        with FingerprintsOnCores(fingerprint_workers, logger.info, logger.warning) as fingerprinter:
            report = commit_articles(
                articles,
                store,
                index,
                settings.topics,
                settings.alerts,
                utc_now(),
                feed_outcomes,
                fingerprinter,
            )
    finally:
        store.close()
    get_run_logger().info(
        "stored %d new articles (%d already stored), %d new clusters, %d topic matches, %d alerts queued",
        report.new_articles,
        report.duplicates_skipped,
        report.new_clusters,
        report.topic_matches,
        report.alerts_queued,
    )
    return report


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(settings: Settings, force: bool = False) -> DeliveryReport:
    store = open_store(settings.database)
    try:
        report = deliver_alerts(store, settings.alerts, utc_now(), force=force)
    finally:
        store.close()
    logger = get_run_logger()
    for line in report.errors:
        logger.warning("%s", line)
    logger.info("alerts: %d sent, %d pending, %d failed", report.sent, report.pending, report.failed)
    return report


def _summarise(
    settings: Settings,
    stages: list[StageReport],
    commit: CommitReport,
    delivery: DeliveryReport,
    feeds: StageReport | None,
) -> RunSummary:
    store = open_store(settings.database)
    try:
        clusters = store.count("clusters", "WHERE merged_into IS NULL")
        pending = store.count("alerts", "WHERE status = 'pending'")
    finally:
        store.close()
    return RunSummary(
        feeds_fetched=feeds.done if feeds else 0,
        feeds_failed=feeds.failed if feeds else 0,
        new_articles=commit.new_articles,
        clusters=clusters,
        new_clusters=commit.new_clusters,
        topic_matches=commit.topic_matches,
        alerts_queued=commit.alerts_queued,
        alerts_sent=delivery.sent,
        alerts_pending=pending,
        errors=tuple(e for s in stages for e in s.errors) + tuple(delivery.errors),
    )


def _start_run(settings: Settings, kind: str) -> int:
    store = open_store(settings.database)
    try:
        return store.start_run(kind)
    finally:
        store.close()


def _finish_run(settings: Settings, run_id: int, summary: RunSummary) -> None:
    store = open_store(settings.database)
    try:
        store.finish_run(run_id, "completed_with_errors" if summary.errors else "completed", asdict(summary))
    finally:
        store.close()


def _run_pipeline(settings: Settings, force: bool) -> RunSummary:
    run_id = _start_run(settings, "run")
    poll = poll_feeds_task(settings, force)
    workers = _on_processes(settings, len(poll.entries))
    page_report, articles, extract_report = _fetch_and_extract(settings, poll.entries, workers)
    commit = commit_task(settings, articles, poll.fetched, workers)
    delivery = deliver_task(settings)
    summary = _summarise(settings, [poll.report, page_report, extract_report], commit, delivery, poll.report)
    _finish_run(settings, run_id, summary)
    publish_run_artifact(settings, commit)
    return summary


@flow(name="wirewatch-run", log_prints=False)
def run_flow(settings: Settings, force: bool = False) -> RunSummary:
    """One pass: poll every due feed, read new articles, cluster them, match topics, alert."""
    return _run_pipeline(settings, force)


def run_on_dask(settings: Settings, address: str, force: bool = False) -> RunSummary:
    """The same flow with its extract tasks on an existing Dask cluster (the scheduler at
    `address`); fetching and the single-writer store stay in this process."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise WirewatchError("--dask-address needs prefect-dask: pip install 'wirewatch[dask]'") from exc
    runner = DaskTaskRunner(address=address, client_kwargs={"timeout": DASK_CONNECT_TIMEOUT_S})
    try:
        # prefect-dask's runner is typed over its own future class, not PrefectFuture.
        return run_flow.with_options(task_runner=runner)(settings, force)  # type: ignore[arg-type]
    except (OSError, TimeoutError) as exc:
        raise WirewatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


@flow(name="wirewatch-scheduled", log_prints=False)
def scheduled_flow(config: str | None = None, db: str | None = None) -> RunSummary:
    """The deployed form of a run: parameters are paths (JSON for the Prefect API); the config
    is read afresh at each run, so edits to it apply from the next run on."""
    settings = load_settings(config, db_override=db)
    with demo_settings(settings) as ready:
        return _run_pipeline(ready, False)


@flow(name="wirewatch-ingest", log_prints=False)
def ingest_flow(settings: Settings, paths: list[Path], source: str | None = None) -> RunSummary:
    """Saved pages (.html, .txt) through the same extract, cluster, match and alert stages."""
    run_id = _start_run(settings, "ingest")
    pages, read_report = read_files_task(paths, source)
    workers = _on_processes(settings, len(pages))
    articles, extract_report = _extract(settings, pages, workers)
    commit = commit_task(settings, articles, None, workers)
    delivery = deliver_task(settings)
    summary = _summarise(settings, [read_report, extract_report], commit, delivery, None)
    _finish_run(settings, run_id, summary)
    return summary


@flow(name="wirewatch-deliver", log_prints=False)
def deliver_flow(settings: Settings, force: bool = True) -> DeliveryReport:
    """Deliver pending alerts now (`wirewatch alerts --retry`)."""
    return deliver_task(settings, force)
