"""CLI command for watchlists: check a list file before configuring it."""

from __future__ import annotations

from pathlib import Path

import click

from wirewatch.cli_common import emit_json, json_option
from wirewatch.settings import WATCHLIST_FORMATS


@click.group()
def watchlist() -> None:
    """Sanctions lists screened against every article ([[watchlists]] in the config).

    Example: wirewatch watchlist check sdn.csv --format ofac-sdn
    """


@watchlist.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "list_format",
    type=click.Choice(WATCHLIST_FORMATS),
    required=True,
    help="ofac-sdn (sdn.csv, alt.csv beside it), ftm (OpenSanctions JSON lines) or csv (id,name,aliases).",
)
@json_option
def check(file: Path, list_format: str, as_json: bool) -> None:
    """Read a watchlist as a run would: how many names and aliases it holds, and each row that
    cannot be read (file and line; such rows are skipped).

    Example: wirewatch watchlist check sdn.csv --format ofac-sdn
    """
    from wirewatch.watchlists.lists import WatchlistError, load_watchlist

    try:
        loaded = load_watchlist(file, list_format)
    except WatchlistError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        emit_json({"names": loaded.names, "aliases": loaded.aliases, "problems": loaded.problems})
        return
    for problem in loaded.problems:
        click.echo(f"skipped {problem}", err=True)
    rows = f"{len(loaded.problems)} rows skipped" if loaded.problems else "no row skipped"
    click.echo(f"{file}: {loaded.names:,} names, {loaded.aliases:,} aliases ({rows})")
