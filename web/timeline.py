"""The cluster page's picture: when each source published, as dots on a time axis, one row per
source. Pure geometry here; the template draws it as inline SVG (no JavaScript)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wirewatch.records import StoredArticle
from wirewatch.timeutil import parse_iso

# Sized to sit beside the article list at a normal reading width; rows tall enough for a label.
TIMELINE_WIDTH_PX = 720
LABEL_WIDTH_PX = 170
ROW_HEIGHT_PX = 26
AXIS_HEIGHT_PX = 34
MARGIN_PX = 14
TICKS = 4


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    tier: str
    label: str
    article_id: int
    development: bool = False  # it raised a development alert


@dataclass(frozen=True, slots=True)
class Row:
    source: str
    y: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    axis_y: float
    plot_left: float
    plot_right: float
    rows: tuple[Row, ...]
    dots: tuple[Dot, ...]
    ticks: tuple[Tick, ...]
    undated: tuple[str, ...]


def build_timeline(articles: Sequence[StoredArticle], developments: Collection[int] = ()) -> Timeline:
    """Rows in order of each source's first article; articles without a date are listed apart.
    The `developments` (article ids) are marked: they raised a development alert."""
    dated = [(a, t) for a in articles if (t := parse_iso(a.published)) is not None]
    dated.sort(key=lambda pair: (pair[1], pair[0].id))
    sources: list[str] = []
    for article, _ in dated:
        if article.source not in sources:
            sources.append(article.source)
    plot_left, plot_right = float(LABEL_WIDTH_PX), float(TIMELINE_WIDTH_PX - MARGIN_PX)
    rows = tuple(Row(s, MARGIN_PX + ROW_HEIGHT_PX * (i + 0.5)) for i, s in enumerate(sources))
    axis_y = MARGIN_PX + ROW_HEIGHT_PX * len(sources) + 6
    height = int(axis_y + AXIS_HEIGHT_PX)
    undated = tuple(a.source for a in articles if parse_iso(a.published) is None)
    if not dated:
        return Timeline(TIMELINE_WIDTH_PX, height, axis_y, plot_left, plot_right, (), (), (), undated)
    start, end = dated[0][1], dated[-1][1]
    if end - start < timedelta(minutes=1):
        # One moment (or near it): centre it in an hour-wide window so the dot is not on the edge.
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    span = (end - start).total_seconds()

    def x_of(moment: datetime) -> float:
        return plot_left + (plot_right - plot_left) * (moment - start).total_seconds() / span

    row_y = {r.source: r.y for r in rows}
    dots = tuple(
        Dot(
            x=round(x_of(t), 1),
            y=row_y[a.source],
            tier=a.tier or "original",
            label=f"{a.source}, {_when(t)}: {a.title}" + (" (a development)" if a.id in developments else ""),
            article_id=a.id,
            development=a.id in developments,
        )
        for a, t in dated
    )
    ticks = tuple(
        Tick(round(x_of(start + (end - start) * i / TICKS), 1), _when(start + (end - start) * i / TICKS))
        for i in range(TICKS + 1)
    )
    return Timeline(TIMELINE_WIDTH_PX, height, axis_y, plot_left, plot_right, rows, dots, ticks, undated)


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M")
