"""Each story's headline vocabulary, for matching a headline to a story rather than to one article.

A headline (or a feed entry whose page could not be read) has six to eight content words; against
any single article one shared word decides. Against all the headlines of a story, weighted by how
rare each word is, the evidence adds up: this is the online clustering of Miranda et al. 2018
("Multilingual Clustering of Streaming News"), TF-IDF cosine to cluster centroids, on titles.
On the headline stream of benchmarks/clustering.py it lifts B-cubed F1 from 0.693 to 0.764.
"""

from __future__ import annotations

import math

import numpy as np

from wirewatch.dedup.pair_counts import PairCounts
from wirewatch.dedup.runs import find_sorted

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
    """Which stories' titles use each word, and how often (dedup.pair_counts): a headline's
    candidate stories and the IDF weights of its words. A story's summed title words (its centroid)
    are its members' titles, which the index holds; similarity() is given them.

    Finding stories by words: LSH over a headline's seven words finds few of the long articles it
    matches, whose LSH sets are their names and numbers.
    """

    def __init__(self, pairs: PairCounts | None = None, titles: int = 0) -> None:
        self._pairs = pairs or PairCounts()
        self._titles = titles

    @classmethod
    def of_titles(cls, words: np.ndarray, stories: np.ndarray, titles: int) -> HeadlineCentroids:
        """The centroids of `titles` titles at once: their words, each with its story's code."""
        return cls(PairCounts.of_pairs(words, stories), titles)

    def add(self, story: int | None, title_words: np.ndarray) -> None:
        self._pairs.add(title_words, story)
        self._titles += 1

    def add_many(self, words: np.ndarray, codes: np.ndarray, titles: int) -> None:
        """add() of `titles` titles at once: their words, each with its story's code."""
        self._pairs.add_pairs(words, codes)
        self._titles += titles

    def remove_many(self, words: np.ndarray, codes: np.ndarray, titles: int) -> None:
        """remove() of `titles` titles at once: their words, each with its story's code."""
        self._pairs.remove_pairs(words, codes)
        self._titles -= titles

    def remove(self, story: int | None, title_words: np.ndarray) -> None:
        self._pairs.remove(title_words, story)
        self._titles -= 1

    def move(self, words: np.ndarray, counts: np.ndarray, source: int | None, target: int | None) -> None:
        """A merge: `counts` uses of `words` (a story's summed titles) go from source to target."""
        self._pairs.remove(words, source, counts)
        self._pairs.add(words, target, counts)

    def stories_sharing(self, words: np.ndarray, among: set[int | None] | None = None) -> set[int | None]:
        """Stories (of `among`, if given) whose titles share a word with `words`, leaving out the
        commonest words."""
        limit = max(COMMON_TITLE_MIN, COMMON_TITLE_SHARE * self._titles)
        found: set[int | None] = set()
        titles_with = self._pairs.total_counts(words)
        for word, count in zip(words.tolist(), titles_with.tolist(), strict=True):
            if 0 < count <= limit:
                stories = self._pairs.stories(word)
                if among is None:
                    found.update(stories)
                elif len(among) < len(stories):
                    found.update(s for s in among if s in stories)
                else:
                    found.update(s for s in stories if s in among)
        return found

    def similarity(self, words: np.ndarray, centre: tuple[np.ndarray, np.ndarray]) -> tuple[float, int]:
        """IDF-weighted cosine of `words` (unique) to a story's summed title words (its words, sorted,
        and their counts), and how many words they share."""
        centre_words, centre_counts = centre
        if not len(centre_words) or not len(words):
            return 0.0, 0
        at, shared = find_sorted(centre_words, words)
        if not shared.any():
            return 0.0, 0
        idf = self._idf(words)
        centre_idf = self._idf(centre_words)
        dot = float((idf[shared] * centre_counts[at[shared]] * idf[shared]).sum())
        own = math.sqrt(float((idf * idf).sum()))
        size = math.sqrt(float(((centre_counts * centre_idf) ** 2).sum()))
        return dot / (own * size), int(shared.sum())

    def _idf(self, words: np.ndarray) -> np.ndarray:
        return np.log((self._titles + 1) / (self._pairs.total_counts(words) + 0.5))
