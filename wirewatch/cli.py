"""The `wirewatch` command: parse options, call the library, render a table or JSON.

Commands live by job in cli_pipeline (run, serve, ingest, extract), cli_store (clusters, search,
articles, alerts) and cli_review (feeds, export, ui); this module assembles the group.
"""

from __future__ import annotations

import click

from wirewatch.cli_pipeline import extract, ingest, run, serve
from wirewatch.cli_review import export, feeds, ui
from wirewatch.cli_store import alerts, articles, clusters, runs, search
from wirewatch.cli_watchlist import watchlist


@click.group()
@click.version_option(package_name="wirewatch")
def main() -> None:
    """wirewatch: watch news feeds, cluster wire stories, alert once per development."""


for command in (
    run,
    serve,
    ingest,
    extract,
    clusters,
    search,
    articles,
    alerts,
    feeds,
    export,
    ui,
    watchlist,
    runs,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
