"""Link the stories a commit touched to the stories in other languages about the same event.

Each stored article keeps its anchors (dedup.anchors, read with it: dedup.reading); after each
commit chunk every story that gained an article is compared with the stories of other languages
first seen within dedup.related.RELATED_WINDOW of it that share one of its rarer anchors, and its
links are replaced by what dedup.related decides now.
"""

from __future__ import annotations

from wirewatch.dedup.related import RELATED_WINDOW, Rarity, rare_in, related_stories
from wirewatch.store import Store

# Candidates are the stories sharing an anchor at least this rare in the story's language
# (dedup.related.rare_in):
# one every story of the week tells ("n:2024", "p:RU") would make every story a candidate.
CANDIDATE_WEIGHT = 0.5


def link_stories(clusters: set[int], store: Store) -> None:
    """Find again the cross-language links of these stories (merged ids are followed)."""
    live = sorted({store.clusters.live(c) for c in clusters})
    for story in store.links.evidence(live).values():
        since, until = story.first_seen - RELATED_WINDOW, story.first_seen + RELATED_WINDOW
        counts = Rarity(*store.links.rarity(story.anchors, since, until))
        rare = frozenset(
            a for a in story.anchors if a[0] != "p" and rare_in(a, story.language, counts) >= CANDIDATE_WEIGHT
        )
        others = store.links.evidence(store.links.candidates(rare, since, until, story.story)) if rare else {}
        related = related_stories(story, others.values(), counts)
        store.links.replace_links(story.story, related, story.language)
