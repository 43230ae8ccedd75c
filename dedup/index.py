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
content-word hashes and its embedding), so placing an article reads nothing from the store. LSH
buckets are integer arrays (dedup.band_index), not datasketch's dicts of sets.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from datasketch import LeanMinHash

from dedup.band_index import BandIndex
from dedup.centroids import MIN_SHARED_TITLE_WORDS, HeadlineCentroids, decrement
from dedup.embedding import from_bytes, to_bytes
from dedup.fingerprint import (
    MINHASH_SCHEME,
    MINHASH_SEED,
    NUM_PERM,
    SHORT_TEXT_WORDS,
    Fingerprint,
    hash_bytes,
    minhash_of,
    values_from_bytes,
)
from dedup.story_model import FEATURES, SHIPPED, StoryFeatures, StoryModel
from dedup.story_vectors import StoryVectors
from wirewatch.records import Placement, StoredFingerprint

# Verbatim copies with different boilerplate score 0.8+; a light edit ~0.5-0.7; rewrites < 0.2.
NEAR_DUPLICATE_JACCARD = 0.5
# The LSH bands x rows that find those copies: datasketch's MinHashLSH(threshold=0.5,
# num_perm=128) chooses 25 x 5 (its least false positives and negatives, equally weighted).
NEAR_LSH_BANDS_ROWS = (25, 5)
# LSH bands x rows over names-and-numbers sets. 64 bands of 2 rows find a pair sharing 0.34 of
# them (the lowest same-story pair on the seeds) with probability 0.9995, one sharing 0.05 with
# probability 0.15; the exact content-word check below discards the extra candidates.
SALIENT_LSH_BANDS_ROWS = (64, 2)
# Same-story rewrites on the seeds share 0.18-0.36 of content words, different stories on the
# same topic 0.09-0.11: 0.14 sits in the gap. Re-measure with tests/test_dedup.py before moving it.
STORY_JACCARD = 0.14
# Headlines and teasers have 6-8 content words: 0.14 would be one shared word in seven. On the
# headline stream (benchmarks/clustering.py) same-story pairs sit at 0.17/0.25/0.45 (p10/50/90),
# other stories at 0.14/0.18/0.27. B-cubed F1 there: 0.680 at 0.14, 0.697 at 0.16, 0.684 at 0.18,
# 0.672 at 0.20 (chosen on that development set itself, so an optimistic figure).
SHORT_STORY_JACCARD = 0.16
# Articles further apart in time than this are not compared (NewsBlur looks back 5 days).
STORY_WINDOW_SECONDS = 7 * 24 * 3600
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


_NO_VALUES = np.zeros(0, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """What the index keeps of one article: enough to find it and to verify a match against it."""

    article_id: int
    cluster_id: int | None  # when indexed; the index follows later merges (StoryIndex.cluster_of)
    seen: float | None  # POSIX seconds: when it was published (None: undated)
    arrived: float  # POSIX seconds: when it was stored; the window evicts by this
    shingle_values: np.ndarray  # MinHash values (uint32) over word 3-shingles
    lsh_values: np.ndarray  # MinHash values (uint32) of the salient terms it is indexed by; the
    # index keeps its band keys, not these (empty in the entries it holds: 0.6 KB an article)
    salient_hashes: np.ndarray  # all its salient terms (uint32), for the terms' document counts
    word_hashes: np.ndarray  # its content words (uint32, sorted)
    title_hashes: np.ndarray  # its title's content words (uint32, sorted)
    embedding: np.ndarray  # unit vector of its title and lead (float16, as stored: a run that
    # placed the article and one that loaded it from the store decide the same)

    @property
    def short(self) -> bool:
        """A headline or a teaser (see Fingerprint.short)."""
        return len(self.word_hashes) < SHORT_TEXT_WORDS


class StoryIndex:
    """In-memory LSH over the recent stored fingerprints; rebuilt from the store at the start of a run."""

    def __init__(
        self,
        window_seconds: float = STORY_WINDOW_SECONDS,
        model: StoryModel = SHIPPED,
        meaning_alone: float = MEANING_ALONE,
    ) -> None:
        self.window = window_seconds
        self._near = BandIndex(*NEAR_LSH_BANDS_ROWS)
        self._story = BandIndex(*SALIENT_LSH_BANDS_ROWS)
        self._articles: dict[int, IndexedArticle] = {}
        self._by_arrival: list[tuple[float, int]] = []  # a heap: the first stored leaves first
        self._latest = float("-inf")
        self._cluster_of: dict[int, int | None] = {}  # article -> its cluster, merges applied
        self._members: dict[int | None, set[int]] = {}  # cluster -> its indexed articles
        self._term_clusters: dict[int, Counter[int | None]] = {}  # salient term -> clusters using it
        self._headlines = HeadlineCentroids()
        self._full_texts: Counter[int | None] = Counter()  # cluster -> its members with a full text
        self._headline_only: set[int | None] = set()  # clusters all of whose members are headlines
        self._vectors = StoryVectors()
        self.model = model
        self.meaning_alone = meaning_alone

    def __len__(self) -> int:
        return len(self._articles)

    def lsh_hash(self, fp: Fingerprint) -> LeanMinHash:
        """MinHash of the article's salient terms without the common ones (at least its rarest few)."""
        terms = fp.salient_hashes.tolist()
        # A headline's few words are all it has: leaving any out split the headline stream's
        # big stories (benchmarks/clustering.py), as their own words become frequent.
        limit = max(COMMON_TERM_MIN_STORIES, COMMON_TERM_SHARE * len(self._members))
        if not fp.short and len(self._members) > limit:
            stories = {t: len(self._term_clusters.get(t, ())) for t in terms}
            rare = [t for t in terms if stories[t] <= limit]
            if len(rare) < MIN_LSH_TERMS:
                rare = sorted(terms, key=lambda t: (stories[t], t))[:MIN_LSH_TERMS]
            terms = rare
        return minhash_of(np.array(terms, dtype=np.uint32))

    def add(self, article: IndexedArticle) -> None:
        if self._add(article):
            self._near.insert(article.article_id, article.shingle_values)
            self._story.insert(article.article_id, article.lsh_values)

    def add_many(self, articles: Sequence[IndexedArticle]) -> None:
        """add() of many articles in arrival order, their LSH keys sorted in once (a run's start)."""
        added = [a for a in articles if self._add(a)]
        kept = [a for a in added if a.article_id in self._articles]  # not evicted since
        if kept:
            ids = [a.article_id for a in kept]
            self._near.insert_many(ids, np.stack([a.shingle_values for a in kept]))
            self._story.insert_many(ids, np.stack([a.lsh_values for a in kept]))

    def _add(self, article: IndexedArticle) -> bool:
        """Everything of add() but the LSH keys; False when the article is not taken."""
        if article.article_id in self._articles or article.arrived < self._latest - self.window:
            return False
        self._articles[article.article_id] = replace(article, lsh_values=_NO_VALUES)
        cluster = article.cluster_id
        self._cluster_of[article.article_id] = cluster
        self._members.setdefault(cluster, set()).add(article.article_id)
        term_clusters = self._term_clusters
        for term in article.salient_hashes.tolist():
            clusters = term_clusters.get(term)
            if clusters is None:  # not setdefault: it would build a Counter for every term
                clusters = term_clusters[term] = Counter()
            clusters[cluster] += 1
        self._headlines.add(cluster, article.title_hashes.tolist())
        self._vectors.add(cluster, article.embedding)
        if article.short:
            if not self._full_texts.get(cluster, 0):
                self._headline_only.add(cluster)
        else:
            self._full_texts[cluster] += 1
            self._headline_only.discard(cluster)
        heapq.heappush(self._by_arrival, (article.arrived, article.article_id))
        if article.arrived > self._latest:
            self._latest = article.arrived
            self._evict(self._latest - self.window)
        return True

    def remove(self, article_id: int) -> None:
        article = self._articles.pop(article_id, None)
        if article is None:
            return
        self._near.remove(article_id)
        self._story.remove(article_id)
        cluster = self._cluster_of.pop(article_id)
        members = self._members[cluster]
        members.discard(article_id)
        if not members:
            del self._members[cluster]
        for term in article.salient_hashes.tolist():
            clusters = self._term_clusters[term]
            decrement(clusters, cluster)
            if not clusters:
                del self._term_clusters[term]
        self._headlines.remove(cluster, article.title_hashes.tolist())
        self._vectors.remove(cluster, article.embedding)
        if not article.short:
            decrement(self._full_texts, cluster)
        if cluster in self._members and not self._full_texts.get(cluster, 0):
            self._headline_only.add(cluster)
        elif cluster not in self._members:
            self._headline_only.discard(cluster)

    def cluster_of(self, article_id: int) -> int | None:
        return self._cluster_of.get(article_id)

    def merge(self, source: int | None, target: int) -> None:
        """Follow a merge of two clusters in the store: source's articles now belong to target."""
        if source == target or source not in self._members:
            return
        members = self._members.pop(source)
        self._members.setdefault(target, set()).update(members)
        for article_id in members:
            self._cluster_of[article_id] = target
            for term in self._articles[article_id].salient_hashes.tolist():
                clusters = self._term_clusters[term]
                decrement(clusters, source)
                clusters[target] += 1
        self._headlines.merge(source, target)
        self._vectors.merge(source, target)
        if moved := self._full_texts.pop(source, 0):
            self._full_texts[target] += moved
        self._headline_only.discard(source)
        if self._full_texts.get(target, 0):
            self._headline_only.discard(target)
        else:
            self._headline_only.add(target)

    def place(self, fp: Fingerprint, candidates: Sequence[IndexedArticle]) -> Placement:
        """The decision for one article: its story (the lowest-numbered of the stories its matches
        are in; None for a new one) and the other stories it bridges, to be merged into it."""
        placement = self._match(fp, candidates)
        matched = (placement.matched_article_id, *placement.also_matched)
        stories = sorted({s for m in matched if m is not None and (s := self._cluster_of.get(m)) is not None})
        if not stories:
            return placement
        return replace(placement, story=stories[0], merges=tuple(stories[1:]))

    def _match(self, fp: Fingerprint, candidates: Sequence[IndexedArticle]) -> Placement:
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

    def candidate_stories(self, fp: Fingerprint, candidates: Sequence[IndexedArticle]) -> list[int]:
        """The stories the model rates for an article: those sharing title words with it, those
        nearest in meaning, and (for a headline) those of its LSH candidates."""
        words = story_words(fp)
        among = None if fp.short else self._headline_only
        stories = self._headlines.stories_sharing(words, among=among)
        if fp.short or self._headline_only:  # a full text is rated against headline-only stories
            stories.update(self._vectors.nearest(fp.embedding, NEAREST_STORIES))
        if fp.short:
            stories.update(self._cluster_of[a.article_id] for a in candidates)
        else:
            stories.intersection_update(self._headline_only)
        return sorted(s for s in stories if s is not None and s in self._members)

    def story_features(self, fp: Fingerprint, words: list[int], story: int | None) -> StoryFeatures:
        """How an article (its title words: `words`) compares with a whole story."""
        cosine, shared = self._headlines.similarity(words, story)
        own = np.array(sorted(set(words)), dtype=np.uint32)
        recent = sorted(self._members[story])[-RECENT_MEMBERS:]
        best = max((_jaccard(own, self._articles[a].title_hashes) for a in recent), default=0.0)
        vectors = np.stack([self._articles[a].embedding for a in recent])
        return StoryFeatures(
            title_cosine=cosine,
            shared_words=shared / len(words) if words else 0.0,
            two_shared=float(shared >= MIN_SHARED_TITLE_WORDS),
            embedding_cosine=self._vectors.cosine(fp.embedding, story),
            best_title_jaccard=best,
            best_member_cosine=float((vectors @ fp.embedding).max()),
        )

    def _nearest_member(self, words: list[int], story: int | None) -> int:
        """The member whose title shares most words with the article names the match."""
        own = set(words)
        return min(
            self._members[story],
            key=lambda a: (-len(own.intersection(self._articles[a].title_hashes.tolist())), a),
        )

    def _evict(self, before: float) -> None:
        while self._by_arrival and self._by_arrival[0][0] < before:
            _, article_id = heapq.heappop(self._by_arrival)
            self.remove(article_id)

    def candidates(
        self, fp: Fingerprint, lsh_hash: LeanMinHash, seen: float | None, arrived: float
    ) -> list[IndexedArticle]:
        """Indexed articles LSH finds for the fingerprint, within the window of its time, by id.

        Two dated articles are compared by their dates; when either has none, by when each was stored.
        """
        found = self._near.query(fp.shingle_hash.hashvalues) | self._story.query(lsh_hash.hashvalues)
        window, out = self.window, []
        for article_id in sorted(found):
            other = self._articles[article_id]
            if seen is not None and other.seen is not None:
                apart = abs(other.seen - seen)
            else:
                apart = abs(other.arrived - arrived)
            if apart <= window:
                out.append(other)
        return out


def story_words(fp: Fingerprint) -> list[int]:
    """The words an article is compared with a story's titles on: a headline's all, a full text's
    title words."""
    return (fp.word_hashes if fp.short else fp.title_hashes).tolist()


def _members(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which values are in sorted_set: a binary search each (np.isin sorts all values first)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def decide_placement(
    fp: Fingerprint, candidates: Sequence[IndexedArticle], rewrites: bool = True
) -> Placement:
    """Match an article against verified candidates; the best match names its tier.

    Without `rewrites` only copies are looked for (a headline is matched to stories instead).
    """
    if not candidates:
        return Placement(matched_article_id=None, tier="original", score=0.0)
    ids = [c.article_id for c in candidates]
    # Copy score: the share of equal MinHash values over 3-shingles (datasketch's estimate).
    shingle_values = np.stack([c.shingle_values for c in candidates])
    copy_scores = (shingle_values == fp.shingle_hash.hashvalues).sum(axis=1) / NUM_PERM
    # Story score: exact Jaccard of content words, all candidates in one numpy pass.
    sizes = np.array([len(c.word_hashes) for c in candidates])
    shared_flags = _members(np.concatenate([c.word_hashes for c in candidates]), fp.word_hashes)
    ends = np.cumsum(sizes)
    shared = np.concatenate(([0], np.cumsum(shared_flags)))
    shared = shared[ends] - shared[ends - sizes]
    own = len(fp.word_hashes)
    union = own + sizes - shared
    story_scores = np.divide(shared, union, out=np.zeros(len(ids)), where=(union > 0) & (own > 0))
    thresholds = np.where(np.minimum(sizes, own) < SHORT_TEXT_WORDS, SHORT_STORY_JACCARD, STORY_JACCARD)

    is_copy = copy_scores >= NEAR_DUPLICATE_JACCARD
    is_rewrite = ~is_copy & (story_scores >= thresholds) & rewrites
    near = [(float(copy_scores[k]), ids[k]) for k in np.flatnonzero(is_copy)]
    related = [(float(story_scores[k]), ids[k]) for k in np.flatnonzero(is_rewrite)]
    # Highest score first; the lower id breaks ties so the choice is deterministic.
    near.sort(key=lambda s: (-s[0], s[1]))
    related.sort(key=lambda s: (-s[0], s[1]))
    if near:
        best, tier, basis = near[0], "near_duplicate", "shingles"
    elif related:
        best, tier = related[0], "related"
        # "teaser": the lower threshold for a short text applied (see dedup/explain.py).
        basis = "teaser_words" if thresholds[ids.index(best[1])] == SHORT_STORY_JACCARD else "words"
    else:
        return Placement(matched_article_id=None, tier="original", score=0.0)
    # Only copies bridge clusters: an article copying articles of two clusters shows they are one
    # story. A rewrite matching two clusters joins the best one; merging on such weaker links
    # chained 44 of the 48 stories of the headline stream into one (benchmarks/clustering.py).
    others = tuple(aid for _, aid in near if aid != best[1])
    return Placement(best[1], tier, round(best[0], 4), also_matched=others, basis=basis)


def indexed_article(row: StoredFingerprint, cluster_id: int | None) -> IndexedArticle:
    """An index entry from its stored form and the article's cluster."""
    return IndexedArticle(
        article_id=row.article_id,
        cluster_id=cluster_id,
        seen=row.seen,
        arrived=row.arrived,
        shingle_values=values_from_bytes(row.shingle_hash),
        lsh_values=values_from_bytes(row.lsh_hash),
        salient_hashes=np.frombuffer(row.salient_hashes, dtype=np.uint32),
        word_hashes=np.frombuffer(row.word_hashes, dtype=np.uint32),
        title_hashes=np.frombuffer(row.title_hashes, dtype=np.uint32),
        embedding=from_bytes(row.embedding).astype(np.float16),
    )


def stored_fingerprint(article: IndexedArticle) -> StoredFingerprint:
    """The stored form of a new index entry (new_entry): what load_index reads back at the start
    of a run. Not of an entry the index holds, which keeps no LSH values."""
    if not len(article.lsh_values):
        raise ValueError(f"article {article.article_id}: an index's own entry has no LSH values to store")
    return StoredFingerprint(
        article_id=article.article_id,
        seen=article.seen,
        arrived=article.arrived,
        shingle_hash=hash_bytes(_minhash(article.shingle_values)),
        lsh_hash=hash_bytes(_minhash(article.lsh_values)),
        salient_hashes=article.salient_hashes.astype(np.uint32).tobytes(),
        word_hashes=article.word_hashes.astype(np.uint32).tobytes(),
        title_hashes=article.title_hashes.astype(np.uint32).tobytes(),
        embedding=to_bytes(article.embedding),
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


def _minhash(values: np.ndarray) -> LeanMinHash:
    """The datasketch object of stored values, for its serialisation (seed and scheme recorded)."""
    return LeanMinHash(seed=MINHASH_SEED, hashvalues=values.astype(np.uint64), scheme=MINHASH_SCHEME)
