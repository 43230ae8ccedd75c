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
    new_story and sent together as one message per run. developments: the first match of a story
    as new_story; what later members add is decided by is_development.
    """
    if mode in ("new_story", "digest", "developments"):
        return None if cluster_alerted else f"{topic}:cluster:{cluster_id}"
    if mode == "every_article":
        if placement.tier == "near_duplicate" and match_alerted:
            return None
        return f"{topic}:article:{article_id}"
    raise ValueError(f"unknown topic mode {mode!r}")


# How much news an article's new sentences must carry for a development (dedup.novelty weights: a
# new number 1, a new name or quote 0.5): a new number and a name, or three names.
# Chosen by leave-one-story-out cross-validation on benchmarks/data/developments
# (`python -m benchmarks.developments`).
DEVELOPMENT_WEIGHT = 1.25


def is_development(weight: float, matching_sentences: int) -> bool:
    """A later member raises a development alert when what it adds weighs enough and at least one
    of its new sentences matches the topic itself (a story about sanctions may add sports news)."""
    return weight >= DEVELOPMENT_WEIGHT and matching_sentences > 0


def development_not_before(
    last_alert: datetime | None, now: datetime, min_interval_minutes: float
) -> datetime:
    """When a new development alert may go: at once, or `min_interval_minutes` after the topic's
    last alert on the story; until then it gathers what else arrives."""
    if last_alert is None:
        return now
    return max(now, last_alert + timedelta(minutes=min_interval_minutes))
