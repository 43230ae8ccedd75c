"""UTC timestamps as ISO 8601 strings: the one time format stored and printed, and the one
parser for ISO dates wherever they come from (the store, feeds, page markup, htmldate)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone

from dateutil.parser import isoparse

# A full ISO date, with an optional time and offset, at the start of a longer string: what is
# left of a publisher's value after words or a zone name we cannot read ("... 22:45:00 EDT"),
# or with a space before its offset ("2019-11-19 21:57:00 -0800").
_LEADING_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
# Year or year-month alone: isoparse would make it the 1st of January or of the month.
_PARTIAL_DATE = re.compile(r"\d{4}(?:-?\d{2})?")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime (no offset means UTC), or None.

    Takes "Z" or any offset, fractional seconds of any length, a space or T between date and
    time, a date alone, and the leading ISO part of a longer value; a year or month alone and
    anything else that is not ISO give None."""
    if not text or not (text := text.strip()) or _PARTIAL_DATE.fullmatch(text):
        return None
    try:
        moment = isoparse(text)
    except (ValueError, OverflowError):
        match = _LEADING_ISO.match(text)
        if not match:
            return None
        date, time, offset = match.group("date", "time", "offset")
        try:
            moment = isoparse(f"{date}T{time}{offset or ''}" if time else date)
        except (ValueError, OverflowError):
            return None
    shift = moment.utcoffset()
    # The standard library's timezone, not dateutil's tzutc/tzoffset, whatever the input said.
    return moment.replace(tzinfo=timezone(shift) if shift else UTC)


def backoff_seconds(failures: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff: `base_s` after the first failure, doubling with each further one,
    never more than `cap_s`. `failures` counts the latest one; 0 or less waits `base_s`."""
    # The exponent is bounded: a float overflows near 2 ** 1024, long after any cap is reached.
    return float(min(cap_s, base_s * 2 ** min(max(0, failures - 1), 64)))
