"""Which topic matches raise an alert (one per new development, not one per copy), and when an
alert whose delivery failed is tried again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wirewatch.records import Placement
from wirewatch.timeutil import backoff_seconds

# Delivery retries back off 1, 2, 4 ... minutes, capped at six hours, across runs.
ALERT_RETRY_BASE_S = 60
ALERT_RETRY_CAP_S = 6 * 3600


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """What a failed delivery comes to: the alert's count of attempts, its status ('pending': it
    is tried again at `next_attempt`; 'failed': only by hand, `wirewatch alerts --retry`)."""

    attempts: int
    status: str
    next_attempt: datetime


def after_failure(attempts: int, now: datetime, max_attempts: int) -> FailedAttempt:
    """The alert's state after a failed delivery; `attempts` counts the failed one too."""
    delay = backoff_seconds(attempts, ALERT_RETRY_BASE_S, ALERT_RETRY_CAP_S)
    status = "failed" if attempts >= max_attempts else "pending"
    return FailedAttempt(attempts, status, now + timedelta(seconds=delay))


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
