"""Which topic matches raise an alert: one per new development, not one per copy."""

from __future__ import annotations

from wirewatch.records import Placement


def alert_key(
    topic: str,
    mode: str,
    cluster_id: int,
    article_id: int,
    placement: Placement,
    *,
    cluster_alerted: bool,
    match_alerted: bool,
) -> str | None:
    """The outbox key of the alert this match raises, or None when it raises none.

    new_story: the first match of a story cluster raises one alert; later copies and rewrites
    joining it raise none. every_article: each matching article raises one, except a near
    duplicate of an article already alerted. digest: alerts are queued per cluster like
    new_story and sent together as one message per run.
    """
    if mode in ("new_story", "digest"):
        return None if cluster_alerted else f"{topic}:cluster:{cluster_id}"
    if mode == "every_article":
        if placement.tier == "near_duplicate" and match_alerted:
            return None
        return f"{topic}:article:{article_id}"
    raise ValueError(f"unknown topic mode {mode!r}")
