"""Stories in different languages about the same event: linked, never merged.

Two stories are related when they are in different languages, were first reported within
RELATED_WINDOW of each other, and share enough anchors (dedup.anchors) weighted by how rare each
is among the stories of those days: a vote count or a ship's name says far more than "Russia" or
this year's number. Places alone never link two stories (a week of North Korea news shares them
all), so at least one shared number, date or name is required.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from wirewatch.records import RelatedStory, StoryEvidence

RELATED_WINDOW = timedelta(hours=72)
# Chosen by leave-one-topic-out cross-validation on benchmarks/data/crosslingual/dev.jsonl and
# checked once on heldout.jsonl: `python -m benchmarks.crosslingual` prints both and the spread.
RELATED_THRESHOLD = 1.75
TIME_DISCOUNT = 0.5
# A place is evidence of the region more than of the event.
_KIND_WEIGHT = {"n": 1.0, "d": 1.0, "m": 1.0, "p": 0.5}


@dataclass(frozen=True)
class Rarity:
    """How many stories of each language tell each anchor, and how many stories each language has.

    Counted per language because the versions of one event in six languages are six stories
    telling its numbers: counted together they would make the event's own evidence look common.
    Within one language an anchor many stories tell (this year, "Russia") is common indeed.
    """

    told: Mapping[tuple[str, str], int]  # (language, anchor) -> stories
    stories: Mapping[str, int]  # language -> stories


def rarity(stories: Iterable[StoryEvidence]) -> Rarity:
    told: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    for story in stories:
        totals[story.language] = totals.get(story.language, 0) + 1
        for anchor in story.anchors:
            key = (story.language, anchor)
            told[key] = told.get(key, 0) + 1
    return Rarity(told, totals)


def rare_in(anchor: str, language: str, counts: Rarity) -> float:
    """1 for an anchor one story of the language tells, falling to 0 for one all of them tell: the
    IDF scaled by its largest value, so a threshold means about as many rare anchors in a week of
    100 stories as in one of 10,000."""
    total = counts.stories.get(language, 0)
    if total < 2:
        return 1.0
    told = max(1, counts.told.get((language, anchor), 1))
    return max(0.0, 1.0 - math.log(told) / math.log(total + 1))


def anchor_weight(anchor: str, a: StoryEvidence, b: StoryEvidence, counts: Rarity) -> float:
    rare = (rare_in(anchor, a.language, counts) + rare_in(anchor, b.language, counts)) / 2
    return _KIND_WEIGHT.get(anchor[0], 1.0) * rare


def link_score(a: StoryEvidence, b: StoryEvidence, counts: Rarity) -> float:
    """The weight of what both stories tell; 0 when only places are shared."""
    shared = a.anchors & b.anchors
    if not any(anchor[0] != "p" for anchor in shared):
        return 0.0
    # Time is evidence too: the versions of one event come within hours of each other, the next
    # event of the same topic a day or more later. The score halves across the window.
    apart = min(1.0, abs(a.first_seen - b.first_seen) / RELATED_WINDOW)
    return (1.0 - TIME_DISCOUNT * apart) * sum(anchor_weight(anchor, a, b, counts) for anchor in shared)


def other_languages(a: str | None, b: str | None) -> bool:
    """Both languages known and different (de-CH and de are one language)."""
    if not a or not b:
        return False
    return a.split("-")[0].lower() != b.split("-")[0].lower()


def can_relate(a: StoryEvidence, b: StoryEvidence, window: timedelta = RELATED_WINDOW) -> bool:
    return (
        a.story != b.story
        and other_languages(a.language, b.language)
        and abs(a.first_seen - b.first_seen) <= window
    )


def related_stories(
    story: StoryEvidence,
    others: Iterable[StoryEvidence],
    counts: Rarity,
    threshold: float = RELATED_THRESHOLD,
) -> list[RelatedStory]:
    """The stories in other languages this one is linked to, the strongest first."""
    found: list[RelatedStory] = []
    for other in others:
        if not can_relate(story, other):
            continue
        score = link_score(story, other, counts)
        if score >= threshold:
            shared = sorted(
                story.anchors & other.anchors, key=lambda a: -anchor_weight(a, story, other, counts)
            )
            found.append(RelatedStory(other.story, other.language, round(score, 2), tuple(shared)))
    return sorted(found, key=lambda r: -r.score)
