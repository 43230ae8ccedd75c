"""Candidate search (MinHash LSH) and the explainable decision that places an article.

Two tiers: a near-duplicate shares most word 3-shingles with a stored article (syndication,
light edit); a related rewrite shares enough content words to be the same story. LSH finds the
candidates, so the cost of placing one article does not grow with the store; the decision is
then made on exact sets, so it is symmetric and the grouping does not depend on arrival order.
A headline or teaser that is neither is rated against whole stories by the story model
(dedup.story_model): words and meaning (the embedding) against each candidate story.

The index holds the articles stored in the last STORY_WINDOW_SECONDS, not the whole store, and
compares articles published within that window of each other: a story's articles appear within
days of each other, and a story that keeps running keeps being matched by its newest articles.
Each indexed article keeps in memory what verifying a match needs (its shingle MinHash, its
content-word hashes and its embedding), so placing an article reads nothing from the store: as a
row of shared arrays (dedup.article_table), its LSH buckets as integer arrays (dedup.band_index),
and the stories' term counts as sorted pairs (dedup.pair_counts), not an object per article.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from itertools import repeat

import numpy as np

from wirewatch.dedup.article_table import (
    NO_CANDIDATES,
    NO_CLUSTER,
    SALIENT,
    TITLES,
    WORDS,
    ArticleTable,
    Candidates,
    IndexedArticle,
    PairScores,
    copy_score,
    low_bits,
    word_values,
)
from wirewatch.dedup.band_index import NEAR_LSH_BANDS_ROWS, SALIENT_LSH_BANDS_ROWS, BandIndex, rows_sharing
from wirewatch.dedup.centroids import MIN_SHARED_TITLE_WORDS, HeadlineCentroids
from wirewatch.dedup.chunk_plan import (
    ChunkPlan,
    chunk_pairs,
    shared_words,
    window_mask,
    word_jaccard,
)
from wirewatch.dedup.fingerprint import (
    SHORT_TEXT_WORDS,
    Fingerprint,
    minhash_of,
    minhashes_of_runs,
)
from wirewatch.dedup.merges import surviving_cluster
from wirewatch.dedup.minhash_classes import LeanMinHash
from wirewatch.dedup.pair_counts import PairCounts, story_code
from wirewatch.dedup.runs import find_sorted, run_sums, sorted_unique
from wirewatch.dedup.stored_form import opened_window
from wirewatch.dedup.story_model import FEATURES, SHIPPED, StoryFeatures, StoryModel
from wirewatch.dedup.story_vectors import StoryVectors
from wirewatch.records import Placement, StoredWindow
from wirewatch.settings import DEFAULT_STORY_WINDOW_DAYS

# Verbatim copies with different boilerplate score 0.8+; a light edit ~0.5-0.7; rewrites < 0.2.
NEAR_DUPLICATE_JACCARD = 0.5
# Same-story rewrites on the seeds share 0.18-0.36 of content words, different stories on the
# same topic 0.09-0.11: 0.14 sits in the gap. Re-measure with tests/test_dedup.py before moving it.
STORY_JACCARD = 0.14
# Headlines and teasers have 6-8 content words: 0.14 would be one shared word in seven. On the
# headline stream (benchmarks/clustering.py) same-story pairs sit at 0.17/0.25/0.45 (p10/50/90),
# other stories at 0.14/0.18/0.27. B-cubed F1 there: 0.680 at 0.14, 0.697 at 0.16, 0.684 at 0.18,
# 0.672 at 0.20 (chosen on that development set itself, so an optimistic figure).
SHORT_STORY_JACCARD = 0.16
# Articles further apart in time than this are not compared (NewsBlur looks back 5 days).
STORY_WINDOW_SECONDS = DEFAULT_STORY_WINDOW_DAYS * 86400
# A salient term found in more than this share of the indexed stories (a head of state, the
# wire's name, a year) says little about which story an article tells; leaving it out of the
# LSH set stops it from making every article that mentions it a candidate. Stories, not
# articles, are counted: a big story's own names are frequent but name only that story.
# On the synthetic stream at 10k (benchmarks/clustering.py --scale): candidates per article
# 105 -> 24 and B-cubed recall 0.964 -> 0.971 at 0.05; at 0.02 recall fell to 0.949, at 0.005 to 0.891.
COMMON_TERM_SHARE = 0.05
# ... and never before a term is in this many stories (nothing is left out of a small index).
COMMON_TERM_MIN_STORIES = 20
# An article whose names are all common still keeps its rarest few for the LSH set.
MIN_LSH_TERMS = 3
# Stories nearest in meaning that the model also rates, beside those sharing words.
NEAREST_STORIES = 5
# A story the model may join shares two title words with the article, or means nearly the same
# (embedding cosine to its centroid at least this): "Apple" / "iPhone maker" headlines score
# 0.6-0.7, two election headlines of different countries 0.34. Held-out B-cubed (P / R / F1,
# benchmarks.story_cv): no such rule 0.896 / 0.821 / 0.853, 0.4: 0.930 / 0.782 / 0.849,
# 0.5: 0.932 / 0.737 / 0.819 (measured before the model's merges and member cosine). 0.4 buys
# precision (a wrong join hides a development) for the least recall.
MEANING_ALONE = 0.4
# A story's best title Jaccard is taken over its most recent members (bounded cost per story).
RECENT_MEMBERS = 30


# A story's summed title words are kept once it has this many members (read from them below).
CACHED_CENTRE_MEMBERS = 8
# At most this many LSH candidates per article, the newest: a feed of thousands of near-identical
# entries (status pages, price tickers) put every earlier one in each article's buckets, and
# placing grew with the square of the feed. A copy of something older than the newest 512 alike
# is still found through them. Likewise the member that names a match is looked for among a
# story's newest members.
MAX_CANDIDATES = 512


class StoryIndex:
    """In-memory LSH over the recent stored fingerprints; loaded from the store at the start of a run.

    Every article is a row of shared arrays (dedup.article_table), its LSH bands integer keys
    (dedup.band_index), and the stories' term counts pairs in sorted arrays (dedup.pair_counts):
    no Python object per article but its id's entries in two dicts and a heap.
    """

    def __init__(
        self,
        window_seconds: float = STORY_WINDOW_SECONDS,
        model: StoryModel = SHIPPED,
        meaning_alone: float = MEANING_ALONE,
    ) -> None:
        self.window = window_seconds
        self._near = BandIndex(*NEAR_LSH_BANDS_ROWS)
        self._story = BandIndex(*SALIENT_LSH_BANDS_ROWS)
        self._table = ArticleTable()
        self._by_arrival: list[int] = []  # a heap of _arrival_key()s: the first stored leaves first
        self._latest = float("-inf")
        self._members: dict[int | None, list[int]] = {}  # cluster -> its indexed articles, by id
        # (a list: 20 bytes an article where a set took 150; the newest are read from its end)
        self._terms = PairCounts()  # (salient term, cluster) -> its articles using the term
        self._headlines = HeadlineCentroids()
        self._centres: dict[int | None, tuple[np.ndarray, np.ndarray]] = {}  # big stories' title words
        self._full_texts: Counter[int | None] = Counter()  # cluster -> its members with a full text
        self._headline_only: set[int | None] = set()  # clusters all of whose members are headlines
        self._vectors = StoryVectors()
        self.model = model
        self.meaning_alone = meaning_alone
        self._plan: ChunkPlan | None = None  # open_chunk()'s
        # Articles added during a chunk whose rows, term counts and vectors wait to go in together
        # (_settle_rows(), when a placement reads them); their clusters by id.
        self._waiting: list[tuple[IndexedArticle, np.ndarray]] = []  # (entry, its words as kept)
        self._waiting_clusters: dict[int, int | None] = {}
        # The band keys of the articles added during the chunk, left for its end (BandIndex.thaw):
        # (id, near keys, story keys); until then candidates() looks them up here.
        self._waiting_keys: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._waiting_key_ids: set[int] = set()
        # The same as columns (ids, near keys, story keys), stacked as far as they were asked for
        # (_waiting_key_columns): an article placed as if alone asks for them all.
        self._waiting_columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # Their (salient term, story) pairs, and per term how many of those: at most that many more
        # stories use the term once they are counted.
        self._waiting_pairs: set[int] = set()
        self._waiting_terms: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._table) + len(self._waiting)

    def lsh_hash(self, fp: Fingerprint) -> LeanMinHash:
        """MinHash of the article's salient terms without the common ones (at least its rarest few)."""
        terms = fp.salient_hashes
        plan = self._plan
        k = plan.find(fp) if plan is not None else None
        if plan is None or k is None:
            self._settle_rows()
            chosen = self._lsh_terms(fp, lambda _: self._terms.story_counts(terms))
            return minhash_of(terms if chosen is None else terms[chosen])
        chosen = self._lsh_terms(fp, partial(self._planned_counts, plan, k))
        planned = plan.chosen[k]
        if chosen is None if planned is None else chosen is not None and np.array_equal(chosen, planned):
            plan.current = plan.placing = k
            return plan.lsh[k]
        plan.current = plan.placing = None  # its terms' counts moved across the limit: placed as if alone
        return minhash_of(terms if chosen is None else terms[chosen])

    def _lsh_terms(self, fp: Fingerprint, story_counts: Callable[[float], np.ndarray]) -> np.ndarray | None:
        """Which salient terms lsh_hash() takes (a mask; None: all), given their story counts (of
        the limit: exact where it decides)."""
        # A headline's few words are all it has: leaving any out split the headline stream's
        # big stories (benchmarks/clustering.py), as their own words become frequent.
        limit = max(COMMON_TERM_MIN_STORIES, COMMON_TERM_SHARE * len(self._members))
        if fp.short or len(self._members) <= limit:
            return None
        terms = fp.salient_hashes
        stories = story_counts(limit)
        rare = stories <= limit
        if rare.sum() < MIN_LSH_TERMS:
            rare = np.zeros(len(terms), dtype=bool)
            rare[np.lexsort((terms, stories))[:MIN_LSH_TERMS]] = True
        return rare

    def _planned_counts(self, plan: ChunkPlan, k: int, limit: float) -> np.ndarray:
        """The story counts of the plan's k-th article's salient terms as far as the limit tells
        them apart: the counts of articles still waiting are only taken in (_settle()) when they
        could move a term across it (each adds at most one story to a term it has)."""
        terms, at_start = plan.fps[k].salient_hashes, plan.counts[k]
        counts = self._counts_now(terms, at_start)
        if self._waiting:
            rare = counts <= limit
            waiting = self._waiting_terms
            more = np.fromiter(map(waiting.get, terms.tolist(), repeat(0)), dtype=np.int64, count=len(terms))
            if (rare & (counts + more > limit)).any() or (rare.sum() < MIN_LSH_TERMS and more.any()):
                self._settle_rows()
                counts = self._counts_now(terms, at_start)
        return counts

    def _counts_now(self, terms: np.ndarray, at_start: np.ndarray) -> np.ndarray:
        """Story counts of terms now, from their counts at the chunk's start and the changes since."""
        changes = self._terms.changes
        if not changes:
            return at_start
        moved = np.fromiter(map(changes.get, terms.tolist(), repeat(0)), dtype=np.int64, count=len(terms))
        return at_start + moved

    def open_chunk(
        self, fps: Sequence[Fingerprint], seen: Sequence[float | None], arrived: Sequence[float]
    ) -> None:
        """Work out, for articles about to be placed in this order (lsh_hash, candidates, place,
        add of each; others may come between), what the stored articles answer for all of them at
        once (dedup.chunk_plan). Decisions are those of placing each alone; an article that does
        not come as planned is placed as if alone. Ends at the next open_chunk() or close_chunk()."""
        self.close_chunk()
        count = len(fps)
        if not count:
            return
        self._near.freeze()
        self._story.freeze()
        self._terms.watch()
        fps = list(fps)
        terms = [fp.salient_hashes for fp in fps]
        sizes = np.fromiter(map(len, terms), dtype=np.int64, count=count)
        every = np.concatenate(terms) if sizes.sum() else np.zeros(0, dtype=np.uint32)
        counts = np.split(self._terms.story_counts(every), np.cumsum(sizes)[:-1])
        chosen = [self._lsh_terms(fp, partial(_given, c)) for fp, c in zip(fps, counts, strict=True)]

        lsh_terms = [t if m is None else t[m] for t, m in zip(terms, chosen, strict=True)]
        lsh = minhashes_of_runs(
            np.concatenate(lsh_terms) if sizes.sum() else every,
            np.fromiter(map(len, lsh_terms), dtype=np.int64, count=count),
        )
        shingles = np.stack([fp.shingle_hash.hashvalues for fp in fps])
        near_keys = self._near.keys_of_many(shingles)
        story_keys = self._story.keys_of_many(np.stack([h.hashvalues for h in lsh]))
        near_of, near_ids, near_crowded = self._near.lookup_many(near_keys, MAX_CANDIDATES)
        story_of, story_ids, story_crowded = self._story.lookup_many(story_keys, MAX_CANDIDATES)
        owner_ids = (np.concatenate((near_of, story_of)) << 32) | np.concatenate((near_ids, story_ids))
        pairs = sorted_unique(owner_ids)
        owners, ids = pairs >> 32, pairs & _MAX_ID
        table = self._table
        slots = self._slots(ids.tolist())
        own_seen = np.array([np.nan if t is None else t for t in seen], dtype=np.float64)
        own_arrived = np.array(arrived, dtype=np.float64)
        inside = window_mask(
            own_seen[owners], own_arrived[owners], table.seen[slots], table.arrived[slots], self.window
        )
        words, word_counts = table.hashes_of_many(slots, WORDS)
        own = [word_values(fp.word_hashes) for fp in fps]  # as the table keeps them
        own_sizes = np.fromiter(map(len, own), dtype=np.int64, count=count)
        scores = PairScores(
            copy=copy_score(table.shingles[slots], shingles[owners]),
            story=word_jaccard(shared_words(own, owners, words, word_counts), own_sizes[owners], word_counts),
            smaller=np.minimum(word_counts, own_sizes[owners]),
        )
        # The chunk's own pairs, as each earlier one will be indexed (its planned keys and times).
        codes = np.concatenate((near_keys.astype(np.int64), story_keys.astype(np.int64) | (1 << 32)), axis=1)
        earlier, later = chunk_pairs(codes)
        earlier_sizes = own_sizes[earlier]
        earlier_words = np.concatenate([own[j] for j in earlier.tolist()]) if len(earlier) else words[:0]
        local_scores = PairScores(
            copy=copy_score(low_bits(shingles[earlier]), shingles[later]),
            story=word_jaccard(
                shared_words(own, later, earlier_words, earlier_sizes), own_sizes[later], earlier_sizes
            ),
            smaller=np.minimum(earlier_sizes, own_sizes[later]),
        )
        self._plan = ChunkPlan(
            fps=fps,
            seen=list(seen),
            arrived=list(arrived),
            counts=counts,
            words=own,
            chosen=chosen,
            lsh=lsh,
            near_keys=near_keys,
            story_keys=story_keys,
            crowded=near_crowded | story_crowded,
            starts=np.searchsorted(owners, np.arange(count + 1)),
            ids=ids,
            inside=inside,
            scores=scores,
            local_starts=np.searchsorted(later, np.arange(count + 1)),
            local_earlier=earlier,
            local_inside=window_mask(
                own_seen[later], own_arrived[later], own_seen[earlier], own_arrived[earlier], self.window
            ),
            local_scores=local_scores,
            added=np.full(count, -1, dtype=np.int64),
        )

    def close_chunk(self) -> None:
        """Back to placing articles one by one (open_chunk)."""
        plan = self._plan
        if plan is None:
            return
        self._settle_rows()
        ids, near, story = self._waiting_key_columns()
        self._forget_waiting_keys()
        self._plan = None
        self._terms.unwatch()
        waiting_ids = ids.tolist()
        self._near.thaw(waiting_ids, near)
        self._story.thaw(waiting_ids, story)

    def _forget_waiting_keys(self) -> None:
        self._waiting_keys, self._waiting_key_ids, self._waiting_columns = [], set(), None

    def _waiting_key_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ids of the articles whose band keys wait, and their near and story keys (a row each):
        the rows stacked before, and those added since. Stacking all again for each article placed
        as if alone cost 0.7 ms with 300 waiting."""
        waiting, columns = self._waiting_keys, self._waiting_columns
        done = 0 if columns is None else len(columns[0])
        if columns is not None and done == len(waiting):
            return columns
        if not waiting:
            return (
                np.zeros(0, np.int64),
                np.zeros((0, self._near.bands), np.uint32),
                np.zeros((0, self._story.bands), np.uint32),
            )
        ids, near, story = zip(*waiting[done:], strict=True)
        added = (np.array(ids, dtype=np.int64), np.stack(near), np.stack(story))
        if columns is not None:
            added = (
                np.concatenate((columns[0], added[0])),
                np.concatenate((columns[1], added[1])),
                np.concatenate((columns[2], added[2])),
            )
        self._waiting_columns = added
        return added

    def _waiting_sharing(
        self, near_keys: np.ndarray, story_keys: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The articles whose band keys wait that share a near key, and those sharing a story key."""
        ids, near, story = self._waiting_key_columns()
        return ids[rows_sharing(near, near_keys)], ids[rows_sharing(story, story_keys)]

    def add(self, article: IndexedArticle) -> None:
        plan = self._plan
        if plan is not None:
            planned = None
            if plan.placing is not None:
                planned, plan.placing = plan.placing, None
                if not self._as_planned(plan, planned, article):
                    planned = None
            if self._wait(plan, article, planned):
                return
        self._settle_rows()  # the rows waiting go in first, in the order they came
        if self._add(article):
            self._near.insert(article.article_id, article.shingle_values)
            self._story.insert(article.article_id, article.lsh_values)

    @staticmethod
    def _unplanned_sharing(plan: ChunkPlan, k: int) -> list[int]:
        """The articles indexed during the chunk not as planned that share a key with the k-th."""
        unplanned = plan.unplanned
        found: list[int] = []
        for code in plan.near_keys[k].tolist():
            found.extend(unplanned.get(code, ()))
        for key in plan.story_keys[k].tolist():
            found.extend(unplanned.get(key | (1 << 32), ()))
        return found

    @staticmethod
    def _as_planned(plan: ChunkPlan, k: int, article: IndexedArticle) -> bool:
        """Whether an entry is the plan's k-th article with its planned keys, times and hash sets."""
        fp = plan.fps[k]
        return (
            article.seen == plan.seen[k]
            and article.arrived == plan.arrived[k]
            and article.word_hashes is fp.word_hashes
            and article.salient_hashes is fp.salient_hashes
            and np.array_equal(article.shingle_values, fp.shingle_hash.hashvalues)
            and np.array_equal(article.lsh_values, plan.lsh[k].hashvalues)
        )

    def _wait(self, plan: ChunkPlan, article: IndexedArticle, planned: int | None) -> bool:
        """add() during a chunk but for what no placement of the chunk reads before _settle() (its
        row, its terms' counts and vector) or its end (its band keys): False when it must go in now
        (an article back in the window with new keys). `planned`: its place in the plan, when it
        comes as planned."""
        article_id = article.article_id
        if article_id in self._waiting_clusters or article_id in self._table:
            return True
        if article.arrived < self._latest - self.window:
            return True
        if article_id in plan.gone:
            return False
        if planned is None:
            near_keys = self._near.keys(article.shingle_values)
            story_keys = self._story.keys(article.lsh_values)
            words = word_values(article.word_hashes)
            for code in near_keys.tolist() + [key | (1 << 32) for key in story_keys.tolist()]:
                plan.unplanned.setdefault(code, []).append(article_id)
        else:
            near_keys, story_keys = plan.near_keys[planned], plan.story_keys[planned]
            words = plan.words[planned]
            plan.added[planned] = article_id
        cluster = article.cluster_id
        self._waiting.append((article, words))
        self._waiting_clusters[article_id] = cluster
        self._waiting_keys.append((article_id, near_keys, story_keys))
        self._waiting_key_ids.add(article_id)
        code = story_code(cluster)
        pairs, terms = self._waiting_pairs, self._waiting_terms
        for term in article.salient_hashes.tolist():
            if (pair := term << 32 | code) not in pairs:
                pairs.add(pair)
                terms[term] = terms.get(term, 0) + 1
        self._add_member(article, cluster, len(words) < SHORT_TEXT_WORDS)
        return True

    def _settle(self) -> None:
        """The articles waiting (_wait()) into the table, the counts and the vectors in one go, and
        the band keys waiting into the band indexes one by one, as adding them in turn leaves them."""
        self._settle_rows()
        for article_id, near_keys, story_keys in self._waiting_keys:
            self._near.insert(article_id, near_keys, near_keys)
            self._story.insert(article_id, story_keys, story_keys)
        self._forget_waiting_keys()

    def _settle_rows(self) -> None:
        """Everything of _settle() but the band keys."""
        if not self._waiting:
            return
        entries = [entry for entry, _ in self._waiting]
        slots = self._table.put_many(entries, [words for _, words in self._waiting])
        self._waiting, self._waiting_clusters = [], {}
        self._waiting_pairs, self._waiting_terms = set(), {}
        clusters = [entry.cluster_id for entry in entries]
        codes = _story_codes(clusters)
        salient = [entry.salient_hashes for entry in entries]
        titles = [entry.title_hashes for entry in entries]
        self._terms.add_pairs(*_with_codes(salient, codes))
        self._headlines.add_many(*_with_codes(titles, codes), len(entries))
        self._vectors.add_in_turn(clusters, self._table.vectors(slots))

    def add_stored(self, window: StoredWindow) -> None:
        """add() of each article of a store's window into an empty index, as whole arrays: a run's start reads
        each column of the window in one piece (stored as the index keeps it, dedup.stored_form)
        rather than an object per article."""
        if len(self._table):
            raise ValueError("add_stored() fills an empty story index")
        count = len(window)
        if not count:
            return
        opened = opened_window(window)
        kept, lengths = opened.kept, opened.lengths
        ids = np.array(window.article_ids, dtype=np.int64)
        codes = _story_codes(window.cluster_ids)
        arrived = np.array(window.arrived, dtype=np.float64)
        titles, salient = opened.titles_and_salient()
        slots = self._table.add_many(
            ids,
            np.where(codes == story_code(None), NO_CLUSTER, codes.astype(np.int64)),
            np.array(window.seen, dtype=np.float64),  # None: NaN
            arrived,
            kept["shingles"],
            kept["codes"],
            kept["scale"],
            opened.words,
            opened.terms,
            lengths,
        )
        self._add_stories(ids, window.cluster_ids, codes, ~self._table.shorts(slots))
        self._terms = PairCounts.of_pairs(salient, np.repeat(codes, lengths[:, SALIENT]))
        self._headlines = HeadlineCentroids.of_titles(titles, np.repeat(codes, lengths[:, TITLES]), count)
        # Each story's rows are read as its centroid is summed, not as one 21 MB float32 matrix.
        self._vectors.add_many(window.cluster_ids, lambda at: self._table.vectors(slots[at]))
        self._by_arrival = _arrival_keys(arrived, ids)
        heapq.heapify(self._by_arrival)
        self._latest = float(arrived.max())
        self._near.insert_keys_many(window.article_ids, kept["near"])
        self._story.insert_keys_many(window.article_ids, kept["story"])

    def _add_stories(
        self, ids: np.ndarray, clusters: list[int | None], codes: np.ndarray, full: np.ndarray
    ) -> None:
        """The stories of a window's articles (their ids, clusters, story codes and which have a
        full text): each story's members by id and its count of full texts, stories in the order
        they first appear as add() one by one lists them, a Python step per story rather than per
        article. A story is keyed by its cluster's object in the window (one int kept per story)."""
        by_story = np.lexsort((ids, codes))
        ordered = codes[by_story]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        ends = [*starts[1:].tolist(), len(ordered)]
        members = ids[by_story].tolist()
        firsts = np.minimum.reduceat(by_story, starts)
        for k in np.argsort(firsts).tolist():
            self._members[clusters[firsts[k]]] = members[starts[k] : ends[k]]
        with_text = np.flatnonzero(full)
        _, first, counts = np.unique(codes[with_text], return_index=True, return_counts=True)
        order = np.argsort(first)
        stories = [clusters[at] for at in with_text[first[order]].tolist()]
        self._full_texts.update(dict(zip(stories, counts[order].tolist(), strict=True)))
        self._headline_only.update(c for c in self._members if not self._full_texts.get(c, 0))

    def _add(self, article: IndexedArticle) -> bool:
        """Everything of add() but the LSH keys; False when the article is not taken."""
        if article.article_id in self._table or article.arrived < self._latest - self.window:
            return False
        if self._plan is not None and article.article_id in self._plan.gone:
            self.close_chunk()  # an article back with new keys (a page upgrade): its old ones are planned
        slot = self._table.add(article)
        cluster = article.cluster_id
        self._terms.add(article.salient_hashes, cluster)
        self._headlines.add(cluster, article.title_hashes)
        self._vectors.add(cluster, self._table.vectors(slot))  # as kept, as remove() reads it
        self._add_member(article, cluster, bool(self._table.shorts(slot)))
        return True

    def _add_member(self, article: IndexedArticle, cluster: int | None, short: bool) -> None:
        """What add() keeps of an article beside its row, counts and vector (`short`: by its words
        as kept, as remove() reads them); then the window moves on to it."""
        members = self._members.setdefault(cluster, [])
        if members and members[-1] > article.article_id:  # a page upgrade re-adds an older id
            bisect.insort(members, article.article_id)
        else:
            members.append(article.article_id)
        self._centres.pop(cluster, None)
        if short:
            if not self._full_texts.get(cluster, 0):
                self._headline_only.add(cluster)
        else:
            self._full_texts[cluster] += 1
            self._headline_only.discard(cluster)
        heapq.heappush(self._by_arrival, _arrival_key(article.arrived, article.article_id))
        if article.arrived > self._latest:
            self._latest = article.arrived
            self._evict(self._latest - self.window)

    def remove(self, article_id: int) -> None:
        if article_id in self._waiting_clusters:
            self._settle_rows()
        slot = self._table.slot_or_none(article_id)
        if slot is not None:
            self._remove_many([article_id], np.array([slot]))

    def _settle_first(self, leaving: list[int | None]) -> bool:
        """Whether the rows waiting must go in before articles of these stories leave: their
        vectors are summed in order (float), and a story emptied frees its row for the next new one."""
        waiting = set(self._waiting_clusters.values())
        if not waiting.isdisjoint(leaving):
            return True
        counts = Counter(leaving)
        emptied = any(len(self._members[story]) <= count for story, count in counts.items())
        return emptied and not waiting.issubset(self._vectors.stories())

    def _forget_member(self, article_id: int, cluster: int | None, short: bool) -> None:
        """What remove() undoes of _add_member()."""
        members = self._members[cluster]
        members.remove(article_id)
        if not members:
            del self._members[cluster]
        self._centres.pop(cluster, None)
        if not short:
            self._full_texts[cluster] -= 1
            if self._full_texts[cluster] <= 0:
                del self._full_texts[cluster]
        if cluster in self._members and not self._full_texts.get(cluster, 0):
            self._headline_only.add(cluster)
        elif cluster not in self._members:
            self._headline_only.discard(cluster)

    def cluster_of(self, article_id: int) -> int | None:
        slot = self._table.slot_or_none(article_id)
        if slot is None:
            return self._waiting_clusters.get(article_id)
        return self._table.cluster(slot)

    def merge(self, source: int | None, target: int) -> None:
        """Follow a merge of two clusters in the store: source's articles now belong to target."""
        if source == target or source not in self._members:
            return
        self._settle_rows()
        members = self._members.pop(source)
        kept = self._members.setdefault(target, [])
        kept.extend(members)
        kept.sort()
        slots = self._slots(members)
        self._table.clusters[slots] = target
        terms, counts = np.unique(self._hashes(slots, SALIENT), return_counts=True)
        self._terms.remove(terms, source, counts)
        self._terms.add(terms, target, counts)
        words, counts = np.unique(self._hashes(slots, TITLES), return_counts=True)
        self._headlines.move(words, counts, source, target)
        self._centres.pop(source, None)
        self._centres.pop(target, None)
        self._vectors.merge(source, target)
        if moved := self._full_texts.pop(source, 0):
            self._full_texts[target] += moved
        self._headline_only.discard(source)
        if self._full_texts.get(target, 0):
            self._headline_only.discard(target)
        else:
            self._headline_only.add(target)

    def place(self, fp: Fingerprint, candidates: Candidates) -> Placement:
        """The decision for one article: its story (of the stories its matches are in, the one
        a merge keeps: dedup.merges; None for a new one) and the other stories it bridges, to be
        merged into it."""
        placement = self._match(fp, candidates)
        matched = (placement.matched_article_id, *placement.also_matched)
        stories = sorted({s for m in matched if m is not None and (s := self.cluster_of(m)) is not None})
        if not stories:
            return placement
        story = surviving_cluster(stories)
        return replace(placement, story=story, merges=tuple(s for s in stories if s != story))

    def _match(self, fp: Fingerprint, candidates: Candidates) -> Placement:
        """Decide an article's match: a copy or a full-text rewrite of one article by the rules of
        decide_placement; otherwise the story the story model rates highest (dedup.story_model),
        with the other stories it rates at least `model.merge` and shares two title words with as
        stories to merge into it.

        An article with a full text is matched by the model only to stories known from headlines
        alone (their pages were unreadable): the model is fitted on headlines, and full texts are
        compared with full texts on their words.
        """
        placement = decide_placement(fp, candidates, rewrites=not fp.short)
        if placement.tier != "original":
            return placement
        words = story_words(fp)
        scored = []
        for story in self.candidate_stories(fp, candidates):
            features = self.story_features(fp, words, story)
            if not features.two_shared and features.embedding_cosine < self.meaning_alone:
                continue  # one shared word is no evidence of one event ("election", a country)
            scored.append((self.model.probability(features), story, features))
        scored.sort(key=lambda s: (-s[0], s[1]))
        if not scored or scored[0][0] < self.model.join:
            return placement
        probability, story, features = scored[0]
        bridged = tuple(
            self._nearest_member(words, other)
            for p, other, f in scored[1:]
            if p >= self.model.merge and f.two_shared
        )
        return Placement(
            self._nearest_member(words, story),
            "related",
            round(probability, 4),
            also_matched=bridged,
            basis="story_model",
            scores=tuple(
                (name, round(float(v), 4)) for name, v in zip(FEATURES, features.values(), strict=True)
            ),
        )

    def candidate_stories(self, fp: Fingerprint, candidates: Candidates) -> list[int]:
        """The stories the model rates for an article: those sharing title words with it, those
        nearest in meaning, and (for a headline) those of its LSH candidates."""
        if not fp.short and not self._headline_only:
            return []  # a full text is rated against headline-only stories alone: there are none
        self._settle_rows()
        words = story_words(fp)
        among = None if fp.short else self._headline_only
        stories = self._headlines.stories_sharing(words, among=among)
        if fp.short or self._headline_only:  # a full text is rated against headline-only stories
            stories.update(self._vectors.nearest(fp.embedding, NEAREST_STORIES))
        if fp.short:
            stories.update(self.cluster_of(a) for a in candidates.ids)
        else:
            stories.intersection_update(self._headline_only)
        return sorted(s for s in stories if s is not None and s in self._members)

    def story_features(self, fp: Fingerprint, words: np.ndarray, story: int | None) -> StoryFeatures:
        """How an article (its title words: `words`, unique) compares with a whole story."""
        self._settle_rows()
        cosine, shared = self._headlines.similarity(words, self._centre(story))
        recent = self._slots(self._members[story][-RECENT_MEMBERS:])
        titles, sizes = self._table.hashes_of_many(recent, TITLES)
        shared_each = _shared_counts(words, titles, sizes)
        union = len(words) + sizes - shared_each
        best = float(np.divide(shared_each, union, out=np.zeros(len(union)), where=shared_each > 0).max())
        vectors = self._table.vectors(recent)
        return StoryFeatures(
            title_cosine=cosine,
            shared_words=shared / len(words) if len(words) else 0.0,
            two_shared=float(shared >= MIN_SHARED_TITLE_WORDS),
            embedding_cosine=self._vectors.cosine(fp.embedding, story),
            best_title_jaccard=best,
            best_member_cosine=float((vectors @ fp.embedding).max()),
        )

    def _centre(self, story: int | None) -> tuple[np.ndarray, np.ndarray]:
        """A story's summed title words (sorted) and their counts, from its members' titles."""
        centre = self._centres.get(story)
        if centre is None:
            self._settle_rows()
            members = self._members.get(story, [])[-MAX_CANDIDATES:]
            centre = np.unique(self._hashes(self._slots(members), TITLES), return_counts=True)
            if len(members) >= CACHED_CENTRE_MEMBERS:
                self._centres[story] = centre
        return centre

    def _slots(self, article_ids: Iterable[int]) -> np.ndarray:
        return self._table.slots(article_ids)

    def _hashes(self, slots: np.ndarray, which: int) -> np.ndarray:
        return self._table.hashes_of_many(slots, which)[0]

    def _nearest_member(self, words: np.ndarray, story: int | None) -> int:
        """The member whose title shares most words with the article names the match (the lowest
        id of those)."""
        self._settle_rows()
        members = np.array(self._members[story][-MAX_CANDIDATES:], dtype=np.int64)
        titles, sizes = self._table.hashes_of_many(self._slots(members.tolist()), TITLES)
        shared = _shared_counts(words, titles, sizes)
        return int(members[np.lexsort((members, -shared))[0]])

    def _evict(self, before: float) -> None:
        """Remove the articles stored before `before` (the heap orders them to the millisecond;
        those of its last millisecond are checked one by one)."""
        if not math.isfinite(before):
            return  # an endless window keeps everything
        last = _arrival_key(before, _MAX_ID)
        later, gone = [], {}
        while self._by_arrival and self._by_arrival[0] <= last:
            article_id = heapq.heappop(self._by_arrival) & _MAX_ID
            if article_id in self._waiting_clusters:
                self._settle_rows()  # its row first
            slot = self._table.slot_or_none(article_id)
            if slot is None or article_id in gone:
                continue  # removed before
            if self._table.arrived[slot] < before:
                gone[article_id] = slot
            else:
                later.append(_arrival_key(float(self._table.arrived[slot]), article_id))
        self._remove_many(list(gone), np.fromiter(gone.values(), dtype=np.int64, count=len(gone)))
        for key in later:
            heapq.heappush(self._by_arrival, key)

    def _remove_many(self, article_ids: list[int], slots: np.ndarray) -> None:
        """remove() of each of these indexed articles (in these slots) in turn, a column at a time."""
        if not article_ids:
            return
        if not self._waiting_key_ids.isdisjoint(article_ids):
            self._settle()  # inserted before they are removed, as they came
        if self._plan is not None:
            self._plan.gone.update(article_ids)
        table = self._table
        codes = table.clusters[slots]
        clusters: list[int | None] = [None if c == NO_CLUSTER else c for c in codes.tolist()]
        if self._waiting and self._settle_first(clusters):
            self._settle_rows()
        codes = np.where(codes == NO_CLUSTER, story_code(None), codes).astype(np.uint32)
        if len(article_ids) == 1:  # fewer numpy calls than the columns' steps
            article = table.row(int(slots[0]))
            self._terms.remove(article.salient_hashes, clusters[0])
            self._headlines.remove(clusters[0], article.title_hashes)
            self._vectors.remove(clusters[0], article.embedding)
            shorts = [article.short]
        else:
            salient, salient_sizes = table.hashes_of_many(slots, SALIENT)
            titles, title_sizes = table.hashes_of_many(slots, TITLES)
            shorts = table.shorts(slots).tolist()
            self._vectors.remove_in_turn(clusters, table.vectors(slots))
            self._terms.remove_pairs(salient, np.repeat(codes, salient_sizes))
            self._headlines.remove_many(titles, np.repeat(codes, title_sizes), len(article_ids))
        for article_id, cluster, short in zip(article_ids, clusters, shorts, strict=True):
            self._near.remove(article_id)
            self._story.remove(article_id)
            self._forget_member(article_id, cluster, short)
            table.remove(article_id)

    def candidates(
        self, fp: Fingerprint, lsh_hash: LeanMinHash, seen: float | None, arrived: float
    ) -> Candidates:
        """Indexed articles LSH finds for the fingerprint, within the window of its time, by id.

        Two dated articles are compared by their dates; when either has none, by when each was stored.
        """
        plan = self._plan
        if plan is not None and (k := plan.current) is not None:
            plan.current = None
            if (
                plan.fps[k] is fp
                and plan.lsh[k] is lsh_hash
                and plan.seen[k] == seen
                and plan.arrived[k] == arrived
                and not plan.crowded[k]
            ):
                return self._planned_candidates(plan, k, fp, seen, arrived)
        near = self._near.newest(fp.shingle_hash.hashvalues, MAX_CANDIDATES)
        story = self._story.newest(lsh_hash.hashvalues, MAX_CANDIDATES)
        if self._waiting_keys:  # the newest of both, with those whose keys wait (the newest of those)
            near_waiting, story_waiting = self._waiting_sharing(
                self._near.keys(fp.shingle_hash.hashvalues), self._story.keys(lsh_hash.hashvalues)
            )
            near = sorted_unique(np.concatenate((near, near_waiting)))[-MAX_CANDIDATES:]
            story = sorted_unique(np.concatenate((story, story_waiting)))[-MAX_CANDIDATES:]
        found = sorted_unique(np.concatenate((near, story)))[-MAX_CANDIDATES:]
        if not len(found):
            return NO_CANDIDATES
        if self._waiting_clusters and not self._waiting_clusters.keys().isdisjoint(found.tolist()):
            self._settle_rows()
        table = self._table
        slots = self._slots(found.tolist())
        other_seen, other_arrived = table.seen[slots], table.arrived[slots]
        by_arrival = np.abs(other_arrived - arrived)
        if seen is None:
            apart = by_arrival
        else:  # NaN: undated
            apart = np.where(np.isnan(other_seen), by_arrival, np.abs(other_seen - seen))
        return table.candidates(slots[apart <= self.window])

    def _planned_candidates(
        self, plan: ChunkPlan, k: int, fp: Fingerprint, seen: float | None, arrived: float
    ) -> Candidates:
        """candidates() of the plan's k-th article: the stored articles found at the chunk's start
        (less those gone since) and the chunk's articles indexed before it, scored."""
        a, b = int(plan.starts[k]), int(plan.starts[k + 1])
        scores = plan.scores
        # Columns of the candidates: ids, within the window, copy and story scores, smaller word count.
        columns: tuple[np.ndarray, ...] = (
            plan.ids[a:b],
            plan.inside[a:b],
            scores.copy[a:b],
            scores.story[a:b],
            scores.smaller[a:b],
        )
        if plan.gone and b > a:
            columns = _rows_of(columns, ~plan.is_gone(columns[0]))
        # The chunk's earlier articles sharing a key, indexed as planned.
        c, d = int(plan.local_starts[k]), int(plan.local_starts[k + 1])
        found = plan.added[plan.local_earlier[c:d]]
        local = plan.local_scores
        kept = found >= 0
        if plan.gone:
            kept &= ~plan.is_gone(found)
        if kept.any():
            joined = (found, plan.local_inside[c:d], local.copy[c:d], local.story[c:d], local.smaller[c:d])
            columns = _merged_columns(columns, _rows_of(joined, kept))
        if plan.unplanned and (others := self._unplanned_sharing(plan, k)):
            found = sorted_unique(np.array(others, dtype=np.int64))
            if plan.gone:
                found = found[~plan.is_gone(found)]
            if self._waiting_clusters and not self._waiting_clusters.keys().isdisjoint(others):
                self._settle_rows()
            slots = self._slots(found.tolist())
            table = self._table
            own_seen, own_arrived = np.array(np.nan if seen is None else seen), np.array(arrived)
            inside = window_mask(own_seen, own_arrived, table.seen[slots], table.arrived[slots], self.window)
            more = pair_scores(fp, table.candidates(slots))
            columns = _merged_columns(columns, (found, inside, more.copy, more.story, more.smaller))
        if len(columns[0]) > MAX_CANDIDATES:
            columns = _rows_of(columns, slice(-MAX_CANDIDATES, None))
        ids, inside, copy, story, smaller = columns
        if not inside.any():
            return NO_CANDIDATES
        return replace(
            NO_CANDIDATES,
            article_ids=ids[inside],
            scores=PairScores(copy[inside], story[inside], smaller[inside]),
        )


def _given(value: np.ndarray, limit: float) -> np.ndarray:
    return value


def _with_codes(runs: list[np.ndarray], codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of hashes (an article's each) as one array, with the story code of each."""
    sizes = np.fromiter(map(len, runs), dtype=np.int64, count=len(runs))
    joined = np.concatenate(runs) if sizes.sum() else np.zeros(0, dtype=np.uint32)
    return joined, np.repeat(codes, sizes)


def _rows_of(columns: tuple[np.ndarray, ...], rows: np.ndarray | slice) -> tuple[np.ndarray, ...]:
    return tuple(column[rows] for column in columns)


def _merged_columns(columns: tuple[np.ndarray, ...], more: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Two sets of candidate columns as one, by id (the first column)."""
    together = tuple(np.concatenate(pair) for pair in zip(columns, more, strict=True))
    return _rows_of(together, np.argsort(together[0], kind="stable"))


def _story_codes(clusters: list[int | None]) -> np.ndarray:
    """story_code() of each cluster, as one uint32 array."""
    values = np.array(clusters, dtype=np.float64)  # None: NaN; cluster ids are far below 2**53
    none = np.isnan(values)
    outside = ~none & ~((values >= 0) & (values < story_code(None)))
    if outside.any():
        story_code(clusters[int(np.flatnonzero(outside)[0])])  # raises, naming the cluster
    return np.where(none, story_code(None), values).astype(np.uint32)


# Arrival keys order the window's heap: milliseconds since the epoch above 32 bits of article id.
_MAX_ID = (1 << 32) - 1


def _arrival_key(arrived: float, article_id: int) -> int:
    if not 0 <= article_id <= _MAX_ID:
        raise ValueError(f"article id {article_id} is outside the story index's 32-bit range")
    return (math.floor(arrived * 1000) << 32) | article_id


def _arrival_keys(arrived: np.ndarray, article_ids: np.ndarray) -> list[int]:
    """_arrival_key() of each article (Python ints: the keys are wider than 64 bits)."""
    outside = (article_ids < 0) | (article_ids > _MAX_ID)
    if outside.any():
        _arrival_key(0.0, int(article_ids[outside][0]))  # raises, naming the article
    millis = np.floor(arrived * 1000).astype(np.int64).tolist()
    return [(ms << 32) | article_id for ms, article_id in zip(millis, article_ids.tolist(), strict=True)]


def story_words(fp: Fingerprint) -> np.ndarray:
    """The words an article is compared with a story's titles on: a headline's all, a full text's
    title words (unique, sorted)."""
    return fp.word_hashes if fp.short else fp.title_hashes


def _shared_counts(own: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """How many values of each run of `values` (one run per set, of `sizes`) are in `own` (sorted)."""
    return run_sums(find_sorted(own, values)[1], sizes)


def decide_placement(fp: Fingerprint, candidates: Candidates, rewrites: bool = True) -> Placement:
    """Match an article against verified candidates; the best match names its tier.

    Without `rewrites` only copies are looked for (a headline is matched to stories instead).
    """
    if not len(candidates):
        return Placement(matched_article_id=None, tier="original", score=0.0)
    article_ids = candidates.article_ids
    scores = pair_scores(fp, candidates)
    copy_scores, story_scores = scores.copy, scores.story
    thresholds = np.where(scores.smaller < SHORT_TEXT_WORDS, SHORT_STORY_JACCARD, STORY_JACCARD)

    is_copy = copy_scores >= NEAR_DUPLICATE_JACCARD
    is_rewrite = ~is_copy & (story_scores >= thresholds) & rewrites
    near = list(zip(copy_scores[is_copy].tolist(), article_ids[is_copy].tolist(), strict=True))
    related = list(zip(story_scores[is_rewrite].tolist(), article_ids[is_rewrite].tolist(), strict=True))
    # Highest score first; the lower id breaks ties so the choice is deterministic.
    near.sort(key=lambda s: (-s[0], s[1]))
    related.sort(key=lambda s: (-s[0], s[1]))
    if near:
        best, tier, basis = near[0], "near_duplicate", "shingles"
    elif related:
        best, tier = related[0], "related"
        # "teaser": the lower threshold for a short text applied (see dedup/explain.py).
        basis = (
            "teaser_words"
            if thresholds[np.flatnonzero(article_ids == best[1])[0]] == SHORT_STORY_JACCARD
            else "words"
        )
    else:
        return Placement(matched_article_id=None, tier="original", score=0.0)
    # Only copies bridge clusters: an article copying articles of two clusters shows they are one
    # story. A rewrite matching two clusters joins the best one; merging on such weaker links
    # chained 44 of the 48 stories of the headline stream into one (benchmarks/clustering.py).
    others = tuple(aid for _, aid in near if aid != best[1])
    return Placement(best[1], tier, round(best[0], 4), also_matched=others, basis=basis)


def pair_scores(fp: Fingerprint, candidates: Candidates) -> PairScores:
    """How an article compares with each candidate: its copy score, the estimated Jaccard of
    3-shingles from the low bits of their MinHash values as the index keeps them (copy_score); its
    story score, the Jaccard of content words (their 16-bit values, as kept), all at once."""
    if candidates.scores is not None:
        return candidates.scores
    sizes = candidates.word_counts
    own_words = word_values(fp.word_hashes)  # as the index keeps its candidates' words
    # 16-bit words: a membership table of all 65,536 values finds each candidate word in one
    # lookup (a binary search into the article's words took a tenth of a placement).
    member = np.zeros(1 << 16, dtype=bool)
    member[own_words] = True
    shared = run_sums(member[candidates.words], sizes)
    own = len(own_words)
    return PairScores(
        copy=copy_score(candidates.shingles, fp.shingle_hash.hashvalues),
        story=word_jaccard(shared, own, sizes),
        smaller=np.minimum(sizes, own),
    )


def article_time(published: datetime | None, fetched: datetime) -> float | None:
    """When an article appeared, for the window: its date, or when it was fetched if that is earlier
    (a date in the future is a mistake); None when it has no date."""
    if published is None:
        return None
    # A date without a zone is taken as UTC, as the store does (timeutil.to_iso).
    aware = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (published, fetched)]
    return min(aware).timestamp()


def new_entry(
    article_id: int,
    cluster_id: int | None,
    fp: Fingerprint,
    seen: float | None,
    arrived: float,
    lsh_hash: LeanMinHash | None = None,
) -> IndexedArticle:
    """The index entry of an article; without `lsh_hash`, indexed by all its salient terms."""
    return IndexedArticle(
        article_id=article_id,
        cluster_id=cluster_id,
        seen=seen,
        arrived=arrived,
        shingle_values=_values(fp.shingle_hash),
        lsh_values=_values(lsh_hash if lsh_hash is not None else minhash_of(fp.salient_hashes)),
        salient_hashes=fp.salient_hashes,
        word_hashes=fp.word_hashes,
        title_hashes=fp.title_hashes,
        embedding=fp.embedding.astype(np.float16),
    )


def _values(mh: LeanMinHash) -> np.ndarray:
    """A MinHash's values as the index keeps them: 32-bit (the affine32 scheme's are), half the size."""
    return mh.hashvalues.astype(np.uint32)
