"""wirewatch's Prefect flows: poll feeds -> fetch pages -> extract -> store, cluster, match ->
deliver alerts. Each task wraps one step of flows/steps.py and logs through the run's logger;
`ingest_flow` runs saved files through the same steps after the fetch.

The flows take paths (the config, the database), never the settings: Prefect stores a flow run's
parameters in its database and shows them in its UI, and the settings hold channel secrets
(Apprise URLs, webhook keys). Each run reads its config afresh.

Tasks work on batches. Network retries happen per feed across runs (the store keeps each feed's
backoff), so one bad feed never fails a task and there are no task-level retries here.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from wirewatch.config import load_settings
from wirewatch.demo_server import demo_settings
from wirewatch.errors import WirewatchError
from wirewatch.flows import steps
from wirewatch.flows.commit import CommitReport, DeliveryReport
from wirewatch.flows.extract_pool import BatchResult
from wirewatch.flows.report import publish_run_artifact
from wirewatch.flows.stages import FeedPoll, StageReport
from wirewatch.records import FeedEntry, FeedOutcome, NewArticle, Page, RunSummary
from wirewatch.settings import Settings

DASK_CONNECT_TIMEOUT_S = 10


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds_task(settings: Settings, force: bool) -> FeedPoll:
    return steps.poll(settings, force, get_run_logger())


@task(name="fetch-pages", cache_policy=NO_CACHE)
def fetch_pages_task(settings: Settings, entries: list[FeedEntry]) -> tuple[list[Page], StageReport]:
    return steps.fetch(settings, entries, get_run_logger())


@task(name="fetch-and-extract", cache_policy=NO_CACHE)
def fetch_and_extract_task(
    settings: Settings, entries: list[FeedEntry], workers: int
) -> tuple[StageReport, list[BatchResult]]:
    return steps.fetch_and_extract(settings, entries, workers, get_run_logger())


@task(name="extract", cache_policy=NO_CACHE)
def extract_batch_task(pages: list[Page]) -> BatchResult:
    return steps.extract_batch(pages, get_run_logger())


@task(name="extract-on-processes", cache_policy=NO_CACHE)
def extract_processes_task(pages: list[Page], workers: int) -> list[BatchResult]:
    return steps.extract_on_processes(pages, workers, get_run_logger())


@task(name="source-templates", cache_policy=NO_CACHE)
def templates_task(settings: Settings, articles: list[NewArticle]) -> list[NewArticle]:
    return steps.strip_templates(settings, articles, get_run_logger())


@task(name="store-cluster-match", cache_policy=NO_CACHE)
def commit_task(
    settings: Settings,
    articles: list[NewArticle],
    feed_outcomes: list[FeedOutcome] | None = None,
    fingerprint_workers: int = 0,
) -> CommitReport:
    return steps.commit(settings, articles, feed_outcomes, fingerprint_workers, get_run_logger())


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(settings: Settings, force: bool = False) -> DeliveryReport:
    return steps.deliver(settings, force, get_run_logger())


def _on_threads() -> bool:
    """True under the default task runner (not a Dask cluster, whose workers are processes)."""
    context = FlowRunContext.get()
    return context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)


def _on_processes(settings: Settings, pages: int) -> int:
    """Worker processes for this many pages: 0 for one batch, one core, or a Dask runner."""
    return steps.workers_for(settings, pages) if _on_threads() else 0


def _extract(settings: Settings, pages: list[Page], workers: int) -> tuple[list[NewArticle], StageReport]:
    """Extract on `workers` worker processes (_on_processes), or else in batches on the flow's
    task runner (a Dask cluster's, or this process), then strip templates where the store is."""
    batches = [
        pages[i : i + steps.EXTRACT_BATCH_PAGES] for i in range(0, len(pages), steps.EXTRACT_BATCH_PAGES)
    ]
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
    articles, report = steps.collected(results)
    return templates_task(settings, articles), report


def _run_pipeline(settings: Settings, force: bool) -> RunSummary:
    run_id = steps.start_run(settings, "run")
    poll = poll_feeds_task(settings, force)
    workers = _on_processes(settings, len(poll.entries))
    page_report, articles, extract_report = _fetch_and_extract(settings, poll.entries, workers)
    commit = commit_task(settings, articles, poll.fetched, workers)
    delivery = deliver_task(settings)
    summary = steps.summarise(
        settings, [poll.report, page_report, extract_report], commit, delivery, poll.report
    )
    steps.finish_run(settings, run_id, summary)
    publish_run_artifact(settings, commit)
    return summary


def _settings(config: str | None, db: str | None) -> Settings:
    return load_settings(config, db_override=db)


@flow(name="wirewatch-run", log_prints=False)
def run_flow(config: str | None = None, db: str | None = None, force: bool = False) -> RunSummary:
    """One pass: poll every due feed, read new articles, cluster them, match topics, alert."""
    with demo_settings(_settings(config, db)) as ready:
        return _run_pipeline(ready, force)


def run_on_dask(config: str | None, db: str | None, address: str, force: bool = False) -> RunSummary:
    """The same flow with its extract tasks on an existing Dask cluster (the scheduler at
    `address`); fetching and the single-writer store stay in this process."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise WirewatchError("--dask-address needs prefect-dask: pip install 'wirewatch[dask]'") from exc
    runner = DaskTaskRunner(address=address, client_kwargs={"timeout": DASK_CONNECT_TIMEOUT_S})
    try:
        # prefect-dask's runner is typed over its own future class, not PrefectFuture.
        return run_flow.with_options(task_runner=runner)(config, db, force)  # type: ignore[arg-type]
    except (OSError, TimeoutError) as exc:
        raise WirewatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


@flow(name="wirewatch-scheduled", log_prints=False)
def scheduled_flow(config: str | None = None, db: str | None = None) -> RunSummary:
    """The deployed form of a run: parameters are paths (JSON for the Prefect API); the config
    is read afresh at each run, so edits to it apply from the next run on."""
    with demo_settings(_settings(config, db)) as ready:
        return _run_pipeline(ready, False)


@flow(name="wirewatch-ingest", log_prints=False)
def ingest_flow(
    config: str | None, db: str | None, paths: list[Path], source: str | None = None
) -> RunSummary:
    """Saved pages (.html, .txt) through the same extract, cluster, match and alert steps."""
    return steps.ingest(_settings(config, db), paths, source, get_run_logger())


@flow(name="wirewatch-deliver", log_prints=False)
def deliver_flow(config: str | None = None, db: str | None = None, force: bool = True) -> DeliveryReport:
    """Deliver pending alerts now (`wirewatch alerts --retry`)."""
    return deliver_task(_settings(config, db), force)
