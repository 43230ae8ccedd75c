"""What a run leaves in the Prefect UI: a markdown artifact of its new story clusters and alerts."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from wirewatch.flows.commit import CommitReport
from wirewatch.records import StoredAlert, StoredCluster
from wirewatch.settings import Settings
from wirewatch.store import open_store

ARTIFACT_KEY = "wirewatch-run"
MAX_ROWS = 50


def _cell(text: object) -> str:
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def render_run_markdown(clusters: list[StoredCluster], alerts: list[StoredAlert]) -> str:
    lines = [f"## New story clusters ({len(clusters)})", ""]
    if clusters:
        lines += ["| headline | sources | articles | topics | first seen |", "|---|---|---|---|---|"]
        lines += [
            f"| [{_cell(c.headline)}]({c.articles[0].url}) | {c.sources_count} | {len(c.articles)} | "
            f"{_cell(', '.join(c.topics))} | {c.first_seen} |"
            for c in clusters[:MAX_ROWS]
        ]
    lines += ["", f"## Alerts queued ({len(alerts)})", ""]
    if alerts:
        lines += ["| alert id | topic | cluster | status |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(a.key)} | {_cell(a.topic)} | {a.cluster_id} | {a.status} |" for a in alerts[:MAX_ROWS]
        ]
    return "\n".join(lines)


def publish_run_artifact(settings: Settings, commit: CommitReport) -> str:
    """Publish the run's table (inside a flow run); returns the markdown for callers and tests."""
    store = open_store(settings.database)
    try:
        added = set(commit.article_ids)
        clusters = store.clusters.listing(article_ids=added)
        # New clusters are those whose first article arrived in this run.
        new = [c for c in clusters if min(a.id for a in c.articles) in added]
        alerts = [a for a in store.outbox.listing() if a.id in set(commit.alert_ids)]
    finally:
        store.close()
    markdown = render_run_markdown(new, alerts)
    create_markdown_artifact(
        markdown, key=ARTIFACT_KEY, description="New story clusters and alerts of this run"
    )
    return markdown
