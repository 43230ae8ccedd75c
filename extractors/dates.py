"""Find a publication date in a short header line ("[June 28, 2024]", "28/06/2024 22h45")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(st|nd|rd|th)?,?\s+(?P<year>(19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>(19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<year>(19|20)\d\d)-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})\b"),
    # Numeric day/month/year: read day-first, as most of the world writes it; a first number
    # above 12 settles it, and a second above 12 flips it to the US order.
    re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>(19|20)\d\d)\b"),
)
_TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3])\s*[:h]\s*(?P<m>[0-5]\d)\b")
# A date line is mostly the date: weekday names, "Published", "Updated", time, brackets.
_DATE_LINE_MAX_WORDS = 8


def find_date(line: str) -> datetime | None:
    for pattern in _PATTERNS:
        match = pattern.search(line)
        if not match:
            continue
        parts = match.groupdict()
        year = int(parts["year"])
        if parts.get("month"):
            month, day = _MONTHS[parts["month"].lower().rstrip(".")], int(parts["day"])
        elif parts.get("mnum"):
            month, day = int(parts["mnum"]), int(parts["day"])
        else:
            day, month = int(parts["a"]), int(parts["b"])
            if month > 12 >= day:
                day, month = month, day
        hour = minute = 0
        clock = _TIME.search(line[match.end() :])
        if clock:
            hour, minute = int(clock["h"]), int(clock["m"])
        try:
            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            return None
    return None


def is_date_line(line: str) -> bool:
    return len(line.split()) <= _DATE_LINE_MAX_WORDS and find_date(line) is not None
