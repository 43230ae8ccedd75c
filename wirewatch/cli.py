"""The `wirewatch` command: parse options, call the library, render a table or JSON."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from wirewatch.config import Settings, load_settings
from wirewatch.errors import WirewatchError
from wirewatch.tables import render_table

# Quiet, offline Prefect defaults for a CLI run; the user's environment still wins.
_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "fetch,extractors,dedup,store,alerts,flows",
}


def _prepare_prefect(quiet: bool) -> None:
    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _settings(config: str | None, db: str | None) -> Settings:
    try:
        return load_settings(config, db_override=db)
    except WirewatchError as exc:
        raise click.ClickException(str(exc)) from exc


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: $WIREWATCH_CONFIG, ./wirewatch.toml, the demo).",
)
db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    help="SQLite database file (overrides the config; default wirewatch.db).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
output_option = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file, not stdout."
)


@click.group()
@click.version_option(package_name="wirewatch")
def main() -> None:
    """wirewatch: watch news feeds, cluster wire stories, alert once per development."""


def _print_summary(summary: Any, as_json: bool, db: str) -> None:
    data = asdict(summary)
    if as_json:
        _emit_json(data)
        return
    rows = [
        ("feeds fetched", data["feeds_fetched"]),
        ("feeds failed", data["feeds_failed"]),
        ("new articles", data["new_articles"]),
        ("clusters", f"{data['clusters']} ({data['new_clusters']} new)"),
        ("topic matches", data["topic_matches"]),
        (
            "alerts",
            f"{data['alerts_queued']} new, {data['alerts_sent']} sent, {data['alerts_pending']} pending",
        ),
        ("errors", len(data["errors"])),
        ("database", db),
    ]
    click.echo(render_table(["", "count"], rows))
    for line in data["errors"]:
        click.echo(f"error: {line}", err=True)


@main.command()
@config_option
@db_option
@click.option("--force", is_flag=True, help="Poll every feed now, even those backing off after failures.")
@click.option(
    "--dask-address", metavar="ADDR", help="Run the extract tasks on this Dask scheduler (tcp://...)."
)
@json_option
def run(config: str | None, db: str | None, force: bool, dask_address: str | None, as_json: bool) -> None:
    """Run one pass: fetch feeds and pages, extract, cluster, match topics, alert.

    Example: wirewatch run --config wirewatch.toml

    With no config at all it runs on the bundled demo corpus, served on loopback.
    """
    settings = _settings(config, db)
    _prepare_prefect(as_json)
    from flows.pipeline import run_flow, run_on_dask
    from wirewatch.demo_server import demo_settings

    with demo_settings(settings) as ready:
        try:
            summary = run_on_dask(ready, dask_address, force) if dask_address else run_flow(ready, force)
        except WirewatchError as exc:
            raise click.ClickException(str(exc)) from exc
    _print_summary(summary, as_json, settings.database)


@main.command()
@config_option
@db_option
def serve(config: str | None, db: str | None) -> None:
    """Run the flow on the config's [schedule] as a Prefect deployment, until stopped.

    Example: wirewatch serve --config wirewatch.toml

    Runs show in the Prefect UI of the server at PREFECT_API_URL (or a temporary local one).
    One run at a time: a run still going when the next is due makes that one wait.
    """
    settings = _settings(config, db)
    _prepare_prefect(False)
    from flows.deploy import serve as serve_deployment

    serve_deployment(settings, db)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@db_option
@click.option("--source", help="Source name for every file (default: the file name).")
@json_option
def ingest(
    files: tuple[Path, ...], config: str | None, db: str | None, source: str | None, as_json: bool
) -> None:
    """Ingest saved pages (.html, or .txt as a scraper saved them) through extract, cluster, alert.

    Example: wirewatch ingest saved/*.txt --source "Saved pages"
    """
    settings = _settings(config, db)
    _prepare_prefect(as_json)
    from flows.pipeline import ingest_flow

    summary = ingest_flow(settings, list(files), source)
    _print_summary(summary, as_json, settings.database)


@main.command()
@click.argument("targets", nargs=-1, required=True)
@config_option
@json_option
def extract(targets: tuple[str, ...], config: str | None, as_json: bool) -> None:
    """Print the clean text and metadata of pages (files or http(s) URLs); nothing is stored.

    Example: wirewatch extract page.html https://example.com/story --json
    """
    from extractors import extract_page
    from extractors.article import read_file_page
    from fetch.http import Fetcher
    from flows.stages import PAGE_ACCEPT
    from wirewatch.records import Page

    settings = _settings(config, None)
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


def _explain_cluster(config: str | None, db: str | None, cluster_id: int, as_json: bool) -> None:
    from wirewatch.explain import member_reason, merge_reason

    store = _open(config, db)
    live = store.live_cluster(cluster_id)
    members, merges = store.cluster_members(live), store.cluster_merges(live)
    store.close()
    if not members:
        raise click.ClickException(f"no cluster {cluster_id} in the store")
    if as_json:
        _emit_json(
            {
                "id": live,
                "members": [{**asdict(m), "reason": member_reason(m)} for m in members],
                "merges": [{**asdict(m), "reason": merge_reason(m)} for m in merges],
            }
        )
        return
    if live != cluster_id:
        click.echo(f"cluster {cluster_id} was merged into {live}")
    rows = [(m.id, m.title, m.source, m.tier, member_reason(m)) for m in members]
    click.echo(render_table(["id", "title", "source", "tier", "why"], rows))
    for merge in merges:
        click.echo(merge_reason(merge))


def _open(config: str | None, db: str | None):  # type: ignore[no-untyped-def]
    from store import open_store

    return open_store(_settings(config, db).database)


@main.command()
@config_option
@db_option
@click.option("--topic", help="Only clusters that matched this topic.")
@click.option(
    "--explain", "explain_id", type=int, metavar="ID", help="Show why each article joined cluster ID."
)
@json_option
def clusters(
    config: str | None, db: str | None, topic: str | None, explain_id: int | None, as_json: bool
) -> None:
    """List story clusters, newest first, with their articles.

    Example: wirewatch clusters --topic nk-sanctions

    With --explain ID: each member of that cluster, its tier, the article it matched and the
    score that decided it, and any merges of other clusters into it.
    """
    if explain_id is not None:
        _explain_cluster(config, db, explain_id, as_json)
        return
    store = _open(config, db)
    found = store.list_clusters(topic)
    store.close()
    if as_json:
        _emit_json(
            [
                {
                    "id": c.id,
                    "headline": c.headline,
                    "first_seen": c.first_seen,
                    "last_seen": c.last_seen,
                    "sources": c.sources_count,
                    "topics": list(c.topics),
                    "articles": [
                        {
                            "id": a.id,
                            "url": a.url,
                            "title": a.title,
                            "source": a.source,
                            "published": a.published,
                            "tier": a.tier,
                        }
                        for a in c.articles
                    ],
                }
                for c in found
            ]
        )
        return
    rows = [
        (
            c.id,
            c.headline,
            c.sources_count,
            len(c.articles),
            c.first_seen,
            c.last_seen,
            ",".join(c.topics),
        )
        for c in found
    ]
    click.echo(
        render_table(["id", "headline", "sources", "articles", "first seen", "last seen", "topics"], rows)
    )


@main.command()
@click.argument("query")
@config_option
@db_option
@json_option
def search(query: str, config: str | None, db: str | None, as_json: bool) -> None:
    """Search stored articles with FTS5 syntax (AND/OR/NOT, "phrases", prefix*, NEAR), by cluster.

    Example: wirewatch search '"north korea" AND sanction*'
    """
    store = _open(config, db)
    try:
        hits = store.search(query)
    except WirewatchError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    groups: dict[int | None, list[Any]] = {}
    for hit in hits:  # best first, so each cluster is listed at its best match
        groups.setdefault(hit.cluster_id, []).append(hit)
    if as_json:
        _emit_json(
            [
                {
                    "cluster_id": cid,
                    "headline": members[0].headline,
                    "articles": [
                        {
                            "id": h.article_id,
                            "title": h.title,
                            "source": h.source,
                            "url": h.url,
                            "published": h.published,
                            "snippet": h.snippet,
                        }
                        for h in members
                    ],
                }
                for cid, members in groups.items()
            ]
        )
        return
    rows = [
        (cid, members[0].headline or members[0].title, len(members), members[0].snippet)
        for cid, members in groups.items()
    ]
    click.echo(render_table(["cluster", "headline", "matches", "best match"], rows))


@main.command()
@config_option
@db_option
@json_option
def articles(config: str | None, db: str | None, as_json: bool) -> None:
    """List stored articles with their cluster.

    Example: wirewatch articles --json
    """
    store = _open(config, db)
    found = store.list_articles()
    store.close()
    if as_json:
        _emit_json(
            [
                {
                    "id": a.id,
                    "url": a.url,
                    "title": a.title,
                    "source": a.source,
                    "published": a.published,
                    "cluster_id": a.cluster_id,
                    "tier": a.tier,
                    "text": a.text,
                }
                for a in found
            ]
        )
        return
    rows = [(a.id, a.title, a.source, a.published, a.cluster_id, a.tier) for a in found]
    click.echo(render_table(["id", "title", "source", "published", "cluster", "tier"], rows))


@main.command()
@config_option
@db_option
@click.option("--retry", is_flag=True, help="Deliver pending and failed alerts now.")
@json_option
def alerts(config: str | None, db: str | None, retry: bool, as_json: bool) -> None:
    """List alerts and their delivery state (pending, sent, failed, recorded).

    Example: wirewatch alerts --retry
    """
    settings = _settings(config, db)
    if retry:
        _prepare_prefect(as_json)
        from flows.pipeline import deliver_flow

        report = deliver_flow(settings)
        click.echo(f"{report.sent} sent, {report.pending} pending, {report.failed} failed", err=True)
    from store import open_store

    store = open_store(settings.database)
    found = store.list_alerts()
    members = {a.id: store.alert_articles(a) for a in found}
    store.close()
    if as_json:
        _emit_json([{**asdict(a), "articles": members[a.id]} for a in found])
        return
    rows = [
        (
            a.id,
            a.topic,
            a.cluster_id,
            len(members[a.id]),
            a.status,
            a.created,
            a.delivered,
            a.attempts,
            a.last_error,
        )
        for a in found
    ]
    headers = ["id", "topic", "cluster", "articles", "status", "created", "delivered", "attempts", "error"]
    click.echo(render_table(headers, rows))


@main.group(invoke_without_command=True)
@config_option
@db_option
@json_option
@click.pass_context
def feeds(ctx: click.Context, config: str | None, db: str | None, as_json: bool) -> None:
    """List feeds with their fetch state: last status, last error, failures, next fetch.

    `import` and `export` move the feed list in and out as OPML.

    Example: wirewatch feeds
    """
    if ctx.invoked_subcommand is not None:
        return
    store = _open(config, db)
    found = store.list_feeds()
    store.close()
    if as_json:
        _emit_json([asdict(f) for f in found])
        return
    rows = [
        (
            f.name,
            f.url,
            f.last_status,
            f.consecutive_failures,
            f.last_fetched,
            f.next_fetch,
            f.last_error,
        )
        for f in found
    ]
    click.echo(
        render_table(["name", "url", "status", "failures", "last fetched", "next fetch", "last error"], rows)
    )


@feeds.command("import")
@click.argument("opml_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    help="TOML config file to add the feeds to (default: $WIREWATCH_CONFIG, else ./wirewatch.toml).",
)
def feeds_import(opml_file: Path, config: str | None) -> None:
    """Add the feeds of an OPML file (from Miniflux, FreshRSS, Inoreader, NewsBlur...) to the config.

    Folders are flattened; feeds already configured or listed twice are skipped; each unusable
    entry (no xmlUrl, not http/https) is reported in one line. The config file is appended to,
    never rewritten, and checked again after writing.

    Example: wirewatch feeds import subscriptions.opml --config wirewatch.toml
    """
    from exports.opml import config_file_for_writing, import_opml

    target = config_file_for_writing(config)
    try:
        plan = import_opml(opml_file, target)
    except WirewatchError as exc:
        raise click.ClickException(str(exc)) from exc
    for feed in plan.added:
        click.echo(f"added: {feed.name} <{feed.url}>")
    for line in plan.problems:
        click.echo(line)
    bad = len(plan.problems)
    click.echo(
        f"{len(plan.added)} added, {len(plan.duplicates)} already present or repeated, "
        f"{bad} bad {'entry' if bad == 1 else 'entries'} skipped: {target}"
    )


@feeds.command("export")
@config_option
@output_option
def feeds_export(config: str | None, output: Path | None) -> None:
    """Print the configured feeds as OPML 2.0, for any feed reader to import.

    Example: wirewatch feeds export --config wirewatch.toml --output feeds.opml
    """
    from exports.opml import render_opml
    from wirewatch.timeutil import utc_now

    _write_output(render_opml(_settings(config, None).feeds, utc_now()), output)


@main.group()
def export() -> None:
    """Publish stored stories in formats other programs read (Atom for feed readers).

    Example: wirewatch export atom --topic nk-sanctions --output nk-sanctions.atom
    """


@export.command("atom")
@click.option("--topic", required=True, help="The topic whose story clusters become entries.")
@config_option
@db_option
@output_option
def export_atom(topic: str, config: str | None, db: str | None, output: Path | None) -> None:
    """Print an Atom feed of a topic: one entry per story cluster, updated as sources join.

    Example: wirewatch export atom --topic nk-sanctions --output nk-sanctions.atom
    """
    from exports.atom import render_atom
    from store import open_store
    from wirewatch.timeutil import utc_now

    settings = _settings(config, db)
    store = open_store(settings.database)
    found = store.list_clusters(topic)
    store.close()
    if not found and topic not in {t.name for t in settings.topics}:
        raise click.ClickException(f"no topic named {topic!r} in {settings.source} and no stored matches")
    _write_output(render_atom(topic, found, utc_now()), output)


def _write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write ({exc.strerror})") from exc


@main.command()
@config_option
@db_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback shows your store to the network.",
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
def ui(config: str | None, db: str | None, host: str, port: int) -> None:
    """Review stories in the browser: filter, search, read a story's articles, mark read or mute.

    Also serves each topic as an Atom feed at /topics/NAME.atom. Runs until Ctrl-C.

    Example: wirewatch ui --port 8000   (then open http://127.0.0.1:8000/)
    """
    settings = _settings(config, db)
    from web.server import make_review_server, url_host

    try:
        server = make_review_server(settings, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    address = f"http://{url_host(host)}:{server.server_address[1]}/"
    click.echo(f"Review page: {address} (database {settings.database}). Ctrl-C stops it.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
