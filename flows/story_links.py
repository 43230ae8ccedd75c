"""Link the stories a commit touched to the stories in other languages about the same event.

Each stored article keeps its anchors (dedup.anchors, read with it: dedup.reading); after each
commit chunk every story that gained an article is compared with the stories of other languages
first seen within dedup.related.RELATED_WINDOW of it that share one of its rarer anchors, and its
links are replaced by what dedup.related decides now.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

from wirewatch.dedup.related import RELATED_WINDOW, Rarity, rare_in, related_stories
from wirewatch.records import RelatedStory
from wirewatch.store import Store
from wirewatch.timeutil import to_iso

# Candidates are the stories sharing an anchor at least this rare in the story's language
# (dedup.related.rare_in):
# one every story of the week tells ("n:2024", "p:RU") would make every story a candidate.
CANDIDATE_WEIGHT = 0.5


def link_stories(clusters: set[int], store: Store) -> None:
    """Find again the cross-language links of these stories (merged ids are followed)."""
    live = sorted({store.clusters.live(c) for c in clusters})
    stories = list(store.links.evidence(live).values())
    if not stories:
        return
    # What each story's rarities count is read once for the windows of all these stories (a read
    # per story grew with the store: 9.6 ms an article at 8,000 stored, all of one language), and
    # an anchor's tellers only from the window's oldest member on.
    spans = [(s.first_seen - RELATED_WINDOW, s.first_seen + RELATED_WINDOW) for s in stories]
    first, last = min(since for since, _ in spans), max(until for _, until in spans)
    window = store.links.window_stories(first, last)
    languages = _StoriesByLanguage(window.languages)
    stories_by_language = [languages.counts(since, until) for since, until in spans]
    # A story with no story of another language in its window has nothing to be linked to (a
    # newsroom reading one language never reads the tellers of anchors).
    linkable = [
        any(language != s.language for language in counted)
        for s, counted in zip(stories, stories_by_language, strict=True)
    ]
    tellers: dict[str, _StoriesByLanguage] = {}
    anchors = set().union(*(s.anchors for s, can in zip(stories, linkable, strict=True) if can))
    if anchors:
        for anchor, language, seen in store.links.tellers(anchors, first, last, window.first_member):
            tellers.setdefault(anchor, _StoriesByLanguage([])).add(language, seen)
    for story, (since, until), counted, can in zip(
        stories, spans, stories_by_language, linkable, strict=True
    ):
        related: list[RelatedStory] = []
        if can:
            told = {
                (language, anchor): count
                for anchor in story.anchors
                if anchor in tellers
                for language, count in tellers[anchor].counts(since, until).items()
            }
            counts = Rarity(told, counted)
            rare = frozenset(
                a
                for a in story.anchors
                if a[0] != "p" and rare_in(a, story.language, counts) >= CANDIDATE_WEIGHT
            )
            candidates = (
                store.links.candidates(rare, since, until, story.story, story.language) if rare else []
            )
            others = store.links.evidence(candidates) if candidates else {}
            related = related_stories(story, others.values(), counts)
        store.links.replace_links(story.story, related, story.language)


class _StoriesByLanguage:
    """The first-seen times of stories by language (of those telling an anchor, or all of a
    window), counted over any part of the window read."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self._times: dict[str, list[str]] = {}
        self._sorted = False
        for first_seen, language in rows:
            self.add(language, first_seen)

    def add(self, language: str, first_seen: str) -> None:
        self._times.setdefault(language, []).append(first_seen)
        self._sorted = False

    def counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Stories of each language first seen in [since, until], as SQL's BETWEEN on the stored
        times counts them."""
        if not self._sorted:
            for times in self._times.values():
                times.sort()
            self._sorted = True
        low, high = to_iso(since) or "", to_iso(until) or ""
        found = {
            language: bisect_right(times, high) - bisect_left(times, low)
            for language, times in self._times.items()
        }
        return {language: count for language, count in found.items() if count}
