"""CLI commands that run the pipeline: run, serve, ingest, extract."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from wirewatch.cli_common import (
    absolute,
    config_option,
    db_option,
    json_option,
    load_cli_settings,
    print_summary,
    verbose_option,
)
from wirewatch.cli_logging import Reporting, prepare_prefect
from wirewatch.errors import WirewatchError
from wirewatch.records import RunSummary
from wirewatch.settings import Settings


@click.command()
@config_option
@db_option
@click.option("--force", is_flag=True, help="Poll every feed now, even those backing off after failures.")
@click.option(
    "--dask-address", metavar="ADDR", help="Run the extract tasks on this Dask scheduler (tcp://...)."
)
@json_option
@verbose_option
def run(
    config: str | None, db: str | None, force: bool, dask_address: str | None, as_json: bool, verbose: bool
) -> None:
    """Run one pass: fetch feeds and pages, extract, cluster, match topics, alert.

    Example: wirewatch run --config wirewatch.toml

    With no config at all it runs on the bundled demo corpus, served on loopback. Prints the
    run's summary and any problems; --verbose shows every log line.
    """
    settings = load_cli_settings(config, db)  # checked here: one line before Prefect starts
    prepare_prefect(verbose)
    from wirewatch.flows.pipeline import run_flow, run_on_dask

    reporting = Reporting(verbose, as_json)
    config = absolute(config)
    with reporting.active():
        try:
            if dask_address:
                summary = run_on_dask(config, absolute(db), dask_address, force)
            else:
                summary = run_flow(config, absolute(db), force)
        except WirewatchError as exc:
            raise click.ClickException(str(exc)) from exc
    print_summary(summary, as_json, settings.database)
    reporting.print_problems(summary.errors)


@click.command()
@config_option
@db_option
def serve(config: str | None, db: str | None) -> None:
    """Run the flow on the config's [schedule] as a Prefect deployment, until stopped.

    Example: wirewatch serve --config wirewatch.toml

    Needs a Prefect server at PREFECT_API_URL (`prefect server start`): its scheduler creates
    the runs, which show in its UI. Prints when the next run is due, and says so when the
    server creates none. One run at a time: a run still going when the next is due makes that
    one wait.
    """
    settings = load_cli_settings(config, db)
    prepare_prefect(True)
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    if not api_url:
        # Prefect's temporary local server runs no scheduler: serving against it never runs.
        raise click.ClickException(
            "serve needs a Prefect server: PREFECT_API_URL is not set. Start one with "
            "`prefect server start` and export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from wirewatch.flows.deploy import serve as serve_deployment

    serve_deployment(settings, db, api_url, click.echo)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@db_option
@click.option("--source", help="Source name for every file (default: the file name).")
@json_option
@verbose_option
def ingest(
    files: tuple[Path, ...],
    config: str | None,
    db: str | None,
    source: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Ingest saved pages (.html, or .txt as a scraper saved them) through extract, cluster, alert.

    Example: wirewatch ingest saved/*.txt --source "Saved pages"

    Runs in this process; as a Prefect flow when a Prefect server is configured (PREFECT_API_URL).
    Only regular files up to 16 MB are read. Exits 1 when no file could be ingested; when some
    failed, says how many.
    """
    settings = load_cli_settings(config, db)
    reporting = Reporting(verbose, as_json)

    def as_flow() -> RunSummary:
        from wirewatch.flows.pipeline import ingest_flow

        return ingest_flow(absolute(config), absolute(db), list(files), source)

    def directly(log: logging.Logger) -> RunSummary:
        from wirewatch.flows import steps

        return steps.ingest(settings, list(files), source, log)

    summary = reporting.stages(as_flow, directly)
    print_summary(summary, as_json, settings.database)
    reporting.print_problems(summary.errors)
    report_failed_files(settings, files)


def report_failed_files(settings: Settings, files: tuple[Path, ...]) -> None:
    """Stop with exit 1 when no file was ingested; else say how many failed (their reasons are
    among the errors printed). A file counts as ingested when its article is in the store, new
    or stored by an earlier run: the same file twice adds nothing, and fails nothing."""
    from wirewatch.store import open_store

    given = list(dict.fromkeys(files))
    uris = [_file_uri(path) for path in given]
    store = open_store(settings.database)
    try:
        stored = store.feeds.known_urls([uri for uri in uris if uri])
    finally:
        store.close()
    failed = sum(1 for uri in uris if uri not in stored)
    if failed == len(given):
        raise click.ClickException(
            f"{'the file' if failed == 1 else f'all {failed} files'} failed: nothing ingested"
        )
    if failed:
        click.echo(f"{failed} of {len(given)} files failed; {len(given) - failed} ingested", err=True)


def _file_uri(path: Path) -> str | None:
    """The URL read_file_page gives the file's article; None when the path cannot even be resolved."""
    try:
        return path.resolve().as_uri()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return None


@click.command()
@click.argument("targets", nargs=-1, required=True)
@config_option
@json_option
def extract(targets: tuple[str, ...], config: str | None, as_json: bool) -> None:
    """Print the clean text and metadata of pages (files or http(s) URLs); nothing is stored.

    Example: wirewatch extract page.html https://example.com/story --json
    """
    from wirewatch.extractors import extract_page
    from wirewatch.extractors.article import read_file_page
    from wirewatch.fetch.http import Fetcher
    from wirewatch.flows.stages import PAGE_ACCEPT
    from wirewatch.records import Page

    settings = load_cli_settings(config, None, store=False)
    failures = 0
    with Fetcher(settings.fetch) as fetcher:
        for target in targets:
            try:
                if target.startswith(("http://", "https://")):
                    result = fetcher.get(target, max_bytes=settings.fetch.max_page_bytes, accept=PAGE_ACCEPT)
                    page = Page(url=target, source=target, body=result.text(), content_type=result.media_type)
                else:
                    page = read_file_page(Path(target))
                article = extract_page(page)
            except WirewatchError as exc:
                failures += 1
                click.echo(f"Error: {exc}", err=True)
                continue
            record = {
                "url": article.url,
                "title": article.title,
                "author": article.author,
                "date": article.date.isoformat() if article.date else None,
                "sitename": article.sitename,
                "language": article.language,
                "canonical_url": article.canonical_url,
                "text": article.text,
            }
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                click.echo(
                    f"# {article.title}\n{article.url}\n"
                    f"author: {article.author or '-'} · date: {record['date'] or '-'} · "
                    f"site: {article.sitename or '-'}\n\n{article.text}\n"
                )
    if failures:
        sys.exit(1)
