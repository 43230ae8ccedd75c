"""Each story's headline vocabulary, for matching a headline to a story rather than to one article.

A headline (or a feed entry whose page could not be read) has six to eight content words; against
any single article one shared word decides. Against all the headlines of a story, weighted by how
rare each word is, the evidence adds up: this is the online clustering of Miranda et al. 2018
("Multilingual Clustering of Streaming News"), TF-IDF cosine to cluster centroids, on titles.
On the headline stream of benchmarks/clustering.py it lifts B-cubed F1 from 0.693 to 0.764.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

# A headline joins the story whose headlines it is closest to when the IDF-weighted cosine reaches
# this. On the headline stream, B-cubed F1 (P) is 0.775 (0.920) at 0.05, 0.769 (0.920) at 0.06,
# 0.764 (0.936) at 0.08, 0.745 (0.931) at 0.10, 0.734 (0.936) at 0.12: precision stops rising at
# 0.08. That stream is the development set, so the figures are optimistic.
HEADLINE_COSINE = 0.08
# One shared word is not evidence of one event, however rare the word ("Ukraine", a company's
# name): a headline must share at least two words with the story's titles. On the headline
# stream this trades recall for precision (B-cubed P 0.874 -> 0.936, R 0.734 -> 0.646, F1 0.798
# -> 0.764): a wrong join hides a new development from its alert; a split only repeats one.
MIN_SHARED_TITLE_WORDS = 2


# Finding a headline's stories: a title word in more than this share of the indexed titles (and
# in more than COMMON_TITLE_MIN of them) is too common to name candidate stories on its own.
COMMON_TITLE_SHARE = 0.05
COMMON_TITLE_MIN = 20


class HeadlineCentroids:
    """Summed title words of each story's indexed articles, and which stories use each word.

    The word -> stories map finds a headline's candidate stories: LSH over a headline's seven
    words finds few of the long articles it matches, whose LSH sets are their names and numbers.
    """

    def __init__(self) -> None:
        self._stories: dict[int | None, Counter[int]] = {}
        self._stories_with: dict[int, Counter[int | None]] = {}  # word -> story -> its titles with it
        self._titles_with: Counter[int] = Counter()
        self._titles = 0

    def add(self, story: int | None, title_words: list[int]) -> None:
        self._stories.setdefault(story, Counter()).update(title_words)
        for word in title_words:
            self._stories_with.setdefault(word, Counter())[story] += 1
        self._titles_with.update(title_words)
        self._titles += 1

    def remove(self, story: int | None, title_words: list[int]) -> None:
        words = self._stories.get(story, Counter())  # absent if all its titles were stop words
        self._titles -= 1
        for word in title_words:
            decrement(words, word)
            decrement(self._titles_with, word)
            stories = self._stories_with[word]
            decrement(stories, story)
            if not stories:
                del self._stories_with[word]
        if not words:
            self._stories.pop(story, None)

    def merge(self, source: int | None, target: int | None) -> None:
        if source == target or source not in self._stories:
            return
        words = self._stories.pop(source)
        self._stories.setdefault(target, Counter()).update(words)
        for word, count in words.items():
            stories = self._stories_with[word]
            del stories[source]
            stories[target] += count

    def stories_sharing(self, words: list[int], among: set[int | None] | None = None) -> set[int | None]:
        """Stories (of `among`, if given) whose titles share a word with `words`, leaving out the
        commonest words."""
        limit = max(COMMON_TITLE_MIN, COMMON_TITLE_SHARE * self._titles)
        found: set[int | None] = set()
        for word in words:
            if 0 < self._titles_with[word] <= limit:
                stories = self._stories_with[word]
                if among is None:
                    found.update(stories)
                elif len(among) < len(stories):
                    found.update(s for s in among if s in stories)
                else:
                    found.update(s for s in stories if s in among)
        return found

    def _idf(self, word: int) -> float:
        return math.log((self._titles + 1) / (self._titles_with[word] + 0.5))

    def similarity(self, words: list[int], story: int | None) -> tuple[float, int]:
        """IDF-weighted cosine to the story's summed title words, and how many words they share."""
        centre = self._stories.get(story)
        if not centre or not words:
            return 0.0, 0
        weights = {w: self._idf(w) for w in words}
        shared = [w for w in weights if w in centre]
        if not shared:
            return 0.0, 0
        dot = sum(weights[w] * centre[w] * weights[w] for w in shared)
        own = math.sqrt(sum(v * v for v in weights.values()))
        size = math.sqrt(sum((n * self._idf(w)) ** 2 for w, n in centre.items()))
        return dot / (own * size), len(shared)


def decrement(counts: Counter[Any], key: Any) -> None:
    """Count one fewer of key, forgetting it at zero (a window's counts must not grow forever)."""
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]
