"""A story cluster's headline: the member title that best represents the others."""

from __future__ import annotations

from wirewatch.dedup.features import content_words

# Centrality over the most recent titles only: a cluster of hundreds of copies needs no more.
MAX_TITLES = 50


def representative_title(titles: list[str]) -> str:
    """The title sharing the most content words with the other titles (the medoid).

    Wire copies repeat the wire's headline and rewrites vary it, so the title most like all
    the others is the story's common denominator; a tie goes to the earliest title.
    """
    recent = titles[-MAX_TITLES:]
    words = [content_words(t) for t in recent]

    def centrality(i: int) -> float:
        return sum(
            len(words[i] & other) / max(1, len(words[i] | other)) for j, other in enumerate(words) if j != i
        )

    best = max(range(len(recent)), key=lambda i: (centrality(i), -i))
    return recent[best]
