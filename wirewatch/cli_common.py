"""Shared pieces of the CLI: options, config loading, JSON and table output."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from wirewatch.config import load_settings
from wirewatch.errors import WirewatchError
from wirewatch.settings import Settings
from wirewatch.tables import render_table


def load_cli_settings(config: str | None, db: str | None, *, store: bool = True) -> Settings:
    """The settings; with `store`, also checked that their database can be opened for writing,
    so a bad path stops the command with one line before any work (a run's flow, a server)."""
    try:
        settings = load_settings(config, db_override=db)
    except WirewatchError as exc:
        raise click.ClickException(str(exc)) from exc
    if store:
        from wirewatch.store.database import database_problem

        problem = database_problem(settings.database)
        if problem:
            raise click.ClickException(problem)
    return settings


def absolute(path: str | None) -> str | None:
    """A path as the flows get it: they may run in another directory (a worker, a served run)."""
    return str(Path(path).resolve()) if path else None


def emit_json(data: Any) -> None:
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
    # Not dir_okay=False: click's refusal is a usage screen; load_cli_settings says it in one line.
    type=click.Path(),
    help="SQLite database file (overrides the config; default wirewatch.db).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Show every log line of the run, not only its summary and problems."
)
output_option = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file, not stdout."
)


def print_summary(summary: Any, as_json: bool, db: str) -> None:
    data = asdict(summary)
    if as_json:
        emit_json(data)
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


def open_cli_store(config: str | None, db: str | None):  # type: ignore[no-untyped-def]
    from wirewatch.store import open_store

    return open_store(load_cli_settings(config, db).database)


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write ({exc.strerror})") from exc
