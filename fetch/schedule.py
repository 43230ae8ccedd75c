"""When to fetch a feed next: after success, as late as its publisher asks; after failure, later
and later (exponential backoff with jitter), capped, so a feed down in an outage comes back."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from wirewatch.timeutil import backoff_seconds

# A failing feed waits 1, 2, 4 ... minutes (+-20% jitter so feeds of one host spread out),
# never more than a day, and is never disabled.
BACKOFF_BASE_S = 60.0
BACKOFF_CAP_S = 24 * 3600.0
JITTER = 0.2
# A publisher's cache lifetime or <ttl> stretches the next fetch, but never beyond a day.
MAX_POLITE_DELAY_S = 24 * 3600.0


def next_fetch_after_success(
    now: datetime, *, interval_s: float | None, max_age_s: float | None, ttl_minutes: float | None
) -> datetime | None:
    """None means "at the next run"; otherwise the longest of the feed's own interval, the
    response's cache lifetime and the feed's <ttl>."""
    delays = [d for d in (interval_s, max_age_s, ttl_minutes * 60 if ttl_minutes else None) if d]
    if not delays:
        return None
    return now + timedelta(seconds=min(max(delays), MAX_POLITE_DELAY_S))


def next_fetch_after_failure(
    now: datetime, failures: int, retry_after_s: float | None, rng: random.Random | None = None
) -> datetime:
    """`failures` counts this one too. A server's Retry-After (429/503) is honoured as a minimum."""
    backoff = backoff_seconds(failures, BACKOFF_BASE_S, BACKOFF_CAP_S)
    backoff *= (rng or random).uniform(1 - JITTER, 1 + JITTER)
    delay = max(backoff, min(retry_after_s or 0.0, BACKOFF_CAP_S))
    return now + timedelta(seconds=delay)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds()) if when.tzinfo else None


def parse_max_age(cache_control: str | None, expires: str | None, now: datetime) -> float | None:
    """Freshness lifetime from Cache-Control max-age (preferred) or Expires; no-cache means none."""
    if cache_control:
        directives = [d.strip().lower() for d in cache_control.split(",")]
        if "no-cache" in directives or "no-store" in directives:
            return None
        for directive in directives:
            if directive.startswith("max-age="):
                try:
                    return max(0.0, float(directive.split("=", 1)[1]))
                except ValueError:
                    return None
    return parse_retry_after(expires, now) if expires and not expires.strip().isdigit() else None
