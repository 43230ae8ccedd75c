"""What the story index works out for a chunk of articles before placing them one by one.

A commit places its articles a chunk at a time (flows.commit.COMMIT_CHUNK), and each placement
asked the index the same things in a few hundred small numpy calls: the article's band keys, the
stored articles sharing one, their rows, and how alike each is. Against the articles stored before
the chunk those answers do not change while the chunk is placed, so they are found for the whole
chunk at once: one sorted search over all its keys, one pass over all (article, candidate) pairs.
What does change is handled as each article comes: the chunk's earlier articles (candidates of
the later ones), stored articles leaving the window, and the terms' story counts that choose an
article's LSH terms (dedup.pair_counts records their changes). Each placement then decides on the
same candidates with the same scores as one placed alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wirewatch.dedup.article_table import PairScores
from wirewatch.dedup.fingerprint import Fingerprint
from wirewatch.dedup.minhash_classes import LeanMinHash
from wirewatch.dedup.runs import find_sorted, run_sums, sorted_unique


@dataclass
class ChunkPlan:
    """The articles of a chunk, in the order they are to be placed, and what was found for each."""

    fps: list[Fingerprint]
    seen: list[float | None]
    arrived: list[float]
    counts: list[np.ndarray]  # each one's salient terms' story counts at the chunk's start
    words: list[np.ndarray]  # each one's content words as the table keeps them (word_values())
    chosen: list[np.ndarray | None]  # the LSH terms chosen then (a mask; None: all)
    lsh: list[LeanMinHash]
    near_keys: np.ndarray  # (articles, bands) band keys of the shingle MinHash
    story_keys: np.ndarray  # ... of the LSH MinHash as chosen at the start
    crowded: np.ndarray  # bool: a key of more stored articles than a placement reads (not planned)
    starts: np.ndarray  # where each article's pairs start (and the last ends) in the arrays below
    ids: np.ndarray  # int64: the stored articles sharing a key with it, ascending
    inside: np.ndarray  # bool: within the window of its time
    scores: PairScores  # how alike
    # The chunk's own pairs (earlier, later) sharing a key as planned, scored, by later article.
    local_starts: np.ndarray
    local_earlier: np.ndarray
    local_inside: np.ndarray
    local_scores: PairScores
    added: np.ndarray  # int64: each article's id once indexed with its planned keys (else -1)
    # Articles indexed during the chunk otherwise (an LSH hash not as planned): their keys' codes
    # (as chunk_pairs takes them) -> their ids.
    unplanned: dict[int, list[int]] = field(default_factory=dict)
    placing: int | None = None  # the article whose LSH hash came from the plan, until its add()
    at: int = 0  # the next article to be placed
    current: int | None = None  # the article whose LSH hash came from the plan
    gone: set[int] = field(default_factory=set)  # articles removed since the chunk's start
    _gone_ids: np.ndarray | None = None

    def find(self, fp: Fingerprint) -> int | None:
        """Which of the chunk's articles this is (the same object), from the next one on."""
        for k in range(self.at, len(self.fps)):
            if self.fps[k] is fp:
                self.at = k + 1
                return k
        return None

    def is_gone(self, article_ids: np.ndarray) -> np.ndarray:
        """Which of these articles were removed since the chunk's start: searched in the sorted
        ids (np.isin sorts both sides at every call: 0.1-0.2 ms for a placement's candidates)."""
        if self._gone_ids is None or len(self._gone_ids) != len(self.gone):
            self._gone_ids = np.sort(np.fromiter(self.gone, dtype=np.int64, count=len(self.gone)))
        return find_sorted(self._gone_ids, article_ids)[1]


def window_mask(
    seen: np.ndarray, arrived: np.ndarray, other_seen: np.ndarray, other_arrived: np.ndarray, window: float
) -> np.ndarray:
    """Which pairs are within the window: compared by their dates, by when each was stored when
    either has none (NaN), as StoryIndex.candidates does."""
    by_arrival = np.abs(other_arrived - arrived)
    dated = np.abs(other_seen - seen)
    return np.where(np.isnan(seen) | np.isnan(other_seen), by_arrival, dated) <= window


def shared_words(
    own: list[np.ndarray], owners: np.ndarray, words: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """For each pair (an article by its position in `owners`, whose kept words are `own` of it, and
    a candidate whose kept words are a run of `words`), how many of the candidate's words the
    article has: pairs sorted by article, each article's pairs looked up in one membership table
    of the 65,536 word values, as decide_placement does for one article."""
    ends = np.cumsum(sizes)
    # Where each article's pairs, then their words, start and end.
    bounds = np.searchsorted(owners, np.arange(len(own) + 1))
    word_bounds = np.concatenate(([0], ends))[bounds].tolist()
    hit = np.empty(len(words), dtype=bool)
    member = np.zeros(1 << 16, dtype=bool)
    for k in sorted_unique(owners).tolist():
        a, b = word_bounds[k], word_bounds[k + 1]
        member[own[k]] = True
        np.take(member, words[a:b], out=hit[a:b])
        member[own[k]] = False
    return run_sums(hit, sizes)


def chunk_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (earlier, later) of a chunk's articles sharing a key (`keys`: a row of int64
    codes each, unique across the band indexes), ascending by later then earlier."""
    count = len(keys)
    packed = (keys << 20) | np.arange(count, dtype=np.int64)[:, None]  # the article in the low bits
    packed = np.sort(packed.ravel())
    codes, owner = packed >> 20, packed & ((1 << 20) - 1)
    earlier, later = [], []
    step = 1
    while step < len(codes):
        same = np.flatnonzero(codes[step:] == codes[:-step])
        if not len(same):
            break  # runs of equal codes are sorted: none of this length, none longer
        earlier.append(owner[same])
        later.append(owner[same + step])
        step += 1
    if not earlier:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = sorted_unique(np.concatenate(later) * count + np.concatenate(earlier))
    first, second = pairs % count, pairs // count
    distinct = first != second
    return first[distinct], second[distinct]


def word_jaccard(shared: np.ndarray, own: np.ndarray | int, sizes: np.ndarray) -> np.ndarray:
    """Jaccard of content words from shared counts and the two sets' sizes (0 for an empty set)."""
    union = own + sizes - shared
    return np.divide(shared, union, out=np.zeros(len(sizes)), where=(union > 0) & (own > 0))
