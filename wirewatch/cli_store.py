"""CLI commands that read the store: clusters, search, articles, alerts."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from wirewatch.cli_common import (
    absolute,
    config_option,
    db_option,
    emit_json,
    json_option,
    load_cli_settings,
    open_cli_store,
)
from wirewatch.cli_logging import Reporting
from wirewatch.errors import WirewatchError
from wirewatch.settings import Settings
from wirewatch.tables import render_table

if TYPE_CHECKING:  # flows.commit loads numpy and datasketch: not for every command
    from wirewatch.flows.commit import DeliveryReport


def _explain_cluster(config: str | None, db: str | None, cluster_id: int, as_json: bool) -> None:
    from wirewatch.dedup.explain import member_reason, merge_reason

    store = open_cli_store(config, db)
    live = store.clusters.live(cluster_id)
    members, merges = store.clusters.members(live), store.clusters.merges(live)
    store.close()
    if not members:
        raise click.ClickException(f"no cluster {cluster_id} in the store")
    if as_json:
        emit_json(
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


@click.command()
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
    store = open_cli_store(config, db)
    found = store.clusters.listing(topic)
    entities = store.outbox.entities_of_articles([a.id for c in found for a in c.articles])
    related = {c.id: store.links.related(c.id) for c in found} if as_json else {}
    store.close()
    if as_json:
        from wirewatch.dedup.summary import story_summary  # not on import: dedup loads numpy

        emit_json(
            [
                {
                    "id": c.id,
                    "headline": c.headline,
                    # The sentences most of its sources agree on, oldest wording first.
                    "summary": story_summary([(a.source, a.text) for a in c.articles]),
                    "first_seen": c.first_seen,
                    "last_seen": c.last_seen,
                    "sources": c.sources_count,
                    "topics": list(c.topics),
                    "entities": _unique_entities(entities, [a.id for a in c.articles]),
                    # The same event in other languages (linked, not merged: dedup.related).
                    "related": [
                        {"id": r.story, "language": r.language, "score": r.score, "shared": list(r.shared)}
                        for r in related[c.id]
                    ],
                    "articles": [
                        {
                            "id": a.id,
                            "url": a.url,
                            "title": a.title,
                            "source": a.source,
                            "published": a.published,
                            "tier": a.tier,
                            "language": a.language,
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


@click.command()
@click.argument("query")
@config_option
@db_option
@json_option
def search(query: str, config: str | None, db: str | None, as_json: bool) -> None:
    """Search stored articles with FTS5 syntax (AND/OR/NOT, "phrases", prefix*, NEAR), by cluster.

    Example: wirewatch search '"north korea" AND sanction*'
    """
    store = open_cli_store(config, db)
    try:
        hits = store.review.search(query)
    except WirewatchError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    groups: dict[int | None, list[Any]] = {}
    for hit in hits:  # best first, so each cluster is listed at its best match
        groups.setdefault(hit.cluster_id, []).append(hit)
    if as_json:
        emit_json(
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


@click.command()
@config_option
@db_option
@json_option
def articles(config: str | None, db: str | None, as_json: bool) -> None:
    """List stored articles with their cluster.

    Example: wirewatch articles --json
    """
    store = open_cli_store(config, db)
    found = store.articles.listing()
    entities = store.outbox.entities_of_articles([a.id for a in found])
    store.close()
    if as_json:
        emit_json(
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
                    "text_source": a.text_source,
                    "language": a.language,
                    "entities": entities.get(a.id, []),
                    # sentences its story had not said when it joined (all of them for a story's
                    # first article); null when not measured (stored before this version)
                    "new_sentences": a.new_count,
                }
                for a in found
            ]
        )
        return
    rows = [(a.id, a.title, a.source, a.published, a.cluster_id, a.tier) for a in found]
    click.echo(render_table(["id", "title", "source", "published", "cluster", "tier"], rows))


def _release_recorded(settings: Settings) -> int:
    """Alerts recorded while no channel was configured, queued for the channels configured now."""
    if not settings.alerts.has_channels:
        raise click.ClickException(
            f"no alert channel configured in {settings.source}: the recorded alerts stay recorded"
        )
    from wirewatch.store import open_store

    store = open_store(settings.database)
    try:
        return store.outbox.release_recorded()
    finally:
        store.close()


def _deliver_now(settings: Settings, config: str | None, db: str | None, as_json: bool) -> None:
    """Pending and failed alerts delivered now: in this process, or as a Prefect flow when a
    Prefect server is configured (PREFECT_API_URL)."""
    reporting = Reporting(False, as_json)

    def as_flow() -> DeliveryReport:
        from wirewatch.flows.pipeline import deliver_flow

        return deliver_flow(absolute(config), absolute(db))

    def directly(log: logging.Logger) -> DeliveryReport:
        from wirewatch.flows import steps

        return steps.deliver(settings, True, log)

    report = reporting.stages(as_flow, directly)
    click.echo(f"{report.sent} sent, {report.pending} pending, {report.failed} failed", err=True)
    reporting.print_problems()


@click.command()
@config_option
@db_option
@click.option("--retry", is_flag=True, help="Deliver pending and failed alerts now.")
@click.option(
    "--all",
    "recorded_too",
    is_flag=True,
    help="With --retry: also send the alerts recorded while no channel was configured.",
)
@json_option
def alerts(config: str | None, db: str | None, retry: bool, recorded_too: bool, as_json: bool) -> None:
    """List alerts and their delivery state (pending, sent, failed, recorded).

    Example: wirewatch alerts --retry

    `--retry --all` also sends the alerts recorded while no channel was configured, once to
    each channel configured now.
    """
    if recorded_too and not retry:
        raise click.UsageError("--all goes with --retry: wirewatch alerts --retry --all")
    settings = load_cli_settings(config, db)
    if recorded_too:
        released = _release_recorded(settings)
        click.echo(f"{released} recorded {'alert' if released == 1 else 'alerts'} queued", err=True)
    if retry:
        _deliver_now(settings, config, db, as_json)
    from wirewatch.store import open_store

    store = open_store(settings.database)
    found = store.outbox.listing()
    members = {a.id: store.outbox.articles(a) for a in found}
    carried = {a.id: store.outbox.alert_sentences(a.id) for a in found if a.kind == "development"}
    store.close()
    if as_json:
        emit_json(
            [
                {
                    **{k: v for k, v in asdict(a).items() if k not in ("entity_id", "entity_name")},
                    "last_error": _masked(a.last_error),
                    "entity": (
                        {"list": a.topic, "id": a.entity_id, "name": a.entity_name} if a.entity_id else None
                    ),
                    "articles": members[a.id],
                    "new_sentences": [asdict(s) for s in carried.get(a.id, [])],
                }
                for a in found
            ]
        )
        return
    rows = [
        (
            a.id,
            f"{a.topic}: {a.entity_name}" if a.entity_name else a.topic,
            a.kind,
            a.cluster_id,
            len(members[a.id]),
            a.status,
            a.created,
            a.delivered,
            a.attempts,
            _masked(a.last_error),
        )
        for a in found
    ]
    headers = [
        "id",
        "topic",
        "kind",
        "cluster",
        "articles",
        "status",
        "created",
        "delivered",
        "attempts",
        "error",
    ]
    click.echo(render_table(headers, rows))


def _masked(error: str | None) -> str | None:
    """An alert's error with any channel URL masked: rows stored by older versions held them whole."""
    from wirewatch.alerts.masking import mask_text

    return None if error is None else mask_text(error)


def _unique_entities(
    by_article: dict[int, list[dict[str, Any]]], article_ids: list[int]
) -> list[dict[str, Any]]:
    """The entities a story's articles name, each once (as its first article names it)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for article_id in article_ids:
        for entity in by_article.get(article_id, []):
            seen.setdefault((entity["list"], entity["id"]), entity)
    return sorted(seen.values(), key=lambda e: (e["list"], e["id"]))


@click.command()
@config_option
@db_option
@json_option
def runs(config: str | None, db: str | None, as_json: bool) -> None:
    """List the latest runs and ingests, newest first: status, times and what each stored.

    Example: wirewatch runs

    A run whose process is gone (killed, or the machine went down) shows as interrupted.
    """
    store = open_cli_store(config, db)
    found = store.feeds.runs()
    store.close()
    if as_json:
        emit_json([asdict(r) for r in found])
        return
    rows = [
        (
            r.id,
            r.kind,
            r.status,
            r.started,
            r.finished or "",
            (r.summary or {}).get("new_articles", ""),
            len((r.summary or {}).get("errors", ())) if r.summary else "",
        )
        for r in found
    ]
    click.echo(render_table(["id", "kind", "status", "started", "finished", "new articles", "errors"], rows))
