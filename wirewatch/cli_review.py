"""CLI commands for reading elsewhere: feeds (OPML), export (Atom), ui."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from wirewatch.cli_common import (
    config_option,
    db_option,
    emit_json,
    json_option,
    load_cli_settings,
    output_option,
    write_output,
)
from wirewatch.errors import WirewatchError
from wirewatch.tables import render_table


@click.group(invoke_without_command=True)
@config_option
@db_option
@json_option
@click.pass_context
def feeds(ctx: click.Context, config: str | None, db: str | None, as_json: bool) -> None:
    """List feeds with their category and fetch state: last status, last error, failures, next fetch.

    `import` and `export` move the feed list in and out as OPML.

    Example: wirewatch feeds
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_cli_settings(config, db)
    categories = {f.url: f.category for f in settings.feeds}
    from wirewatch.store import open_store

    store = open_store(settings.database)
    found = store.feeds.listing()
    store.close()
    if as_json:
        emit_json([{**asdict(f), "category": categories.get(f.url)} for f in found])
        return
    rows = [
        (
            f.name,
            categories.get(f.url),
            f.url,
            f.last_status,
            f.consecutive_failures,
            f.last_fetched,
            f.next_fetch,
            f.last_error,
        )
        for f in found
    ]
    headers = ["name", "category", "url", "status", "failures", "last fetched", "next fetch", "last error"]
    click.echo(render_table(headers, rows))


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

    Each feed's folder becomes its category; feeds already configured or listed twice are
    skipped; each unusable entry (no xmlUrl, not http/https) is reported in one line. The config
    file is appended to, never rewritten, and checked again after writing.

    Example: wirewatch feeds import subscriptions.opml --config wirewatch.toml
    """
    from wirewatch.exports.opml import config_file_for_writing, import_opml

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
    from wirewatch.exports.opml import render_opml
    from wirewatch.timeutil import utc_now

    write_output(render_opml(load_cli_settings(config, None, store=False).feeds, utc_now()), output)


@click.group()
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
    from wirewatch.exports.atom import render_atom
    from wirewatch.store import open_store
    from wirewatch.timeutil import utc_now

    settings = load_cli_settings(config, db)
    store = open_store(settings.database)
    found = store.clusters.listing(topic, muted=False)
    store.close()
    if not found and topic not in {t.name for t in settings.topics}:
        raise click.ClickException(f"no topic named {topic!r} in {settings.source} and no stored matches")
    write_output(render_atom(topic, found, utc_now()), output)


@click.command()
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
    settings = load_cli_settings(config, db)
    from wirewatch.web.server import make_review_server, url_host

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
