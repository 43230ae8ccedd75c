"""The story index's articles as columns of shared arrays, one row (a slot) per article.

An object per article costs its fields' Python headers: five numpy arrays and a dataclass are
about 700 bytes before any data. Here every article's MinHash values and embedding are a row of
one matrix each, its content words one run of a uint16 pool and its title and salient-term
hashes one run of a uint32 pool; a freed slot is reused, and a pool is compacted once half of it
belongs to removed articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from wirewatch.dedup.embedding import DIMENSIONS
from wirewatch.dedup.fingerprint import NUM_PERM, SHORT_TEXT_WORDS
from wirewatch.dedup.runs import run_values, sorted_unique

# b-bit MinHash (Li and Koenig 2010): the table keeps the low 8 bits of each shingle MinHash
# value. Two different values agree there once in 256, so the share of equal low bits overstates
# the share of equal values by that chance; copy_score() takes it out again.
LOW_BITS_CHANCE = 1 / 256


def low_bits(values: np.ndarray) -> np.ndarray:
    """The low 8 bits of MinHash values: what the table keeps of the shingle signature, a
    quarter of the full values' memory."""
    return np.asarray(values).astype(np.uint8)  # integers wrap: the low 8 bits


def copy_score(stored: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The estimated Jaccard of 3-shingles between an article (its full MinHash `values`) and
    stored articles (rows of low_bits()): the share of equal low bits, less chance agreement."""
    # A count over the rows, divided: what mean() gives (exact integer sums), without its wrapper.
    agree = np.count_nonzero(stored == low_bits(values), axis=-1) / stored.shape[-1]
    return np.maximum(agree - LOW_BITS_CHANCE, 0.0) / (1 - LOW_BITS_CHANCE)


def word_values(hashes: np.ndarray) -> np.ndarray:
    """An article's content-word hashes as the table keeps them: their low 16 bits, sorted and
    unique (half the pool's memory). Two of ~160 words share them once in ~5 articles, which
    moves a word Jaccard by about 0.003 in those."""
    return sorted_unique((np.asarray(hashes) & 0xFFFF).astype(np.uint16))


def quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (rows) as int8 with a float16 scale each: 258 bytes a row where float16 takes
    512. A unit vector's largest component sets the step (1/127 of it), so a cosine moves by
    about 0.001."""
    vectors = np.atleast_2d(np.asarray(vectors))
    codes = np.empty(vectors.shape, dtype=np.int8)
    scales = np.empty(len(vectors), dtype=np.float16)
    # In blocks, each step in place: a window's 21,000 rows as one float32 matrix took 29 ms in
    # temporaries of 21 MB each (16 ms so).
    for start in range(0, len(vectors), _QUANTIZE_ROWS):
        block = vectors[start : start + _QUANTIZE_ROWS].astype(np.float32)
        peaks = _peaks(vectors[start : start + _QUANTIZE_ROWS], block)
        scale = (np.where(peaks > 0, peaks, 1.0) / 127).astype(np.float16)
        block /= scale.astype(np.float32)[:, None]
        np.rint(block, out=block)
        np.clip(block, -127, 127, out=block)
        codes[start : start + _QUANTIZE_ROWS] = block
        scales[start : start + _QUANTIZE_ROWS] = scale
    return codes, scales


def quantized_row(vector: np.ndarray) -> tuple[np.ndarray, np.float16]:
    """quantized() of one vector (its codes and scale), the same steps without the blocks' arrays."""
    vector = np.asarray(vector)
    row = vector.astype(np.float32)
    peak = _peaks(vector[None], row[None])
    scale = (np.where(peak > 0, peak, 1.0) / 127).astype(np.float16)
    row /= scale.astype(np.float32)
    np.rint(row, out=row)
    np.clip(row, -127, 127, out=row)
    return row.astype(np.int8), scale[0]


_QUANTIZE_ROWS = 512  # 512 KB of float32: the cache holds a block through its steps


def _peaks(vectors: np.ndarray, as_float32: np.ndarray) -> np.ndarray:
    """The largest absolute value of each row (float32). Of float16 rows, by their bits: without
    the sign bit, a float16's bits order as its magnitude does (a NaN above all), and a max over
    those integers is a tenth of the time of one over the float32 values."""
    if vectors.dtype != np.float16:
        return np.abs(as_float32).max(axis=1)
    magnitudes = vectors.view(np.uint16) & np.uint16(0x7FFF)
    return magnitudes.max(axis=1).view(np.float16).astype(np.float32)


# An article's three hash sets (the columns of its lengths): its words in the words pool, its
# title and salient-term hashes, in this order, in the terms pool.
WORDS, TITLES, SALIENT = 0, 1, 2
NO_CLUSTER = -1  # a cluster id of None (an article indexed before it had one)


_NO_VALUES = np.zeros(0, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """What the index keeps of one article: enough to find it and to verify a match against it.

    One read from the table is a set of views into its arrays: read them, don't keep them past
    the table's next change."""

    article_id: int
    cluster_id: int | None  # when indexed; the index follows later merges (StoryIndex.cluster_of)
    seen: float | None  # POSIX seconds: when it was published (None: undated)
    arrived: float  # POSIX seconds: when it was stored; the window evicts by this
    shingle_values: np.ndarray  # MinHash values (uint32) over word 3-shingles (a row read from the
    # table: their low_bits())
    lsh_values: np.ndarray  # MinHash values (uint32) of the salient terms it is indexed by (for a
    # new entry; the table keeps its band keys, not these)
    salient_hashes: np.ndarray  # all its salient terms (uint32), for the terms' story counts
    word_hashes: np.ndarray  # its content words (uint32, sorted; a row read from the table: their
    # word_values())
    title_hashes: np.ndarray  # its title's content words (uint32, sorted)
    embedding: np.ndarray  # unit vector of its title and lead (float16 as stored; a row read from
    # the table: as kept, quantized(). Both a run that placed the article and one that loaded it
    # from the store keep it so, and decide the same)

    @property
    def short(self) -> bool:
        """A headline or a teaser (see Fingerprint.short)."""
        return len(self.word_hashes) < SHORT_TEXT_WORDS


@dataclass(frozen=True, slots=True)
class PairScores:
    """How an article compares with each of its candidates (dedup.index.pair_scores)."""

    copy: np.ndarray  # float64: copy_score()
    story: np.ndarray  # float64: Jaccard of content words (as kept: word_values())
    smaller: np.ndarray  # int64: the smaller of the two content-word counts (it picks the threshold)


@dataclass(frozen=True, slots=True)
class Candidates:
    """The indexed articles an article is compared with, as columns: a placement reads them in
    whole arrays, not an object each."""

    article_ids: np.ndarray  # int64, ascending
    shingles: np.ndarray  # (count, NUM_PERM) uint8: their shingle MinHash values' low_bits()
    words: np.ndarray  # uint16: their content words (word_values()), one run each
    word_counts: np.ndarray  # int64: each one's run length
    # Their scores against the article when the story index computed them with its chunk
    # (StoryIndex.open_chunk); shingles and words are then left empty.
    scores: PairScores | None = None

    def __len__(self) -> int:
        return len(self.article_ids)

    @property
    def ids(self) -> list[int]:
        return list(self.article_ids.tolist())

    @classmethod
    def of(cls, articles: Sequence[IndexedArticle]) -> Candidates:
        """Candidates from entries (a new entry's fields, as tests build them)."""
        if not articles:
            return NO_CANDIDATES
        return cls(
            article_ids=np.array([a.article_id for a in articles], dtype=np.int64),
            shingles=low_bits(np.stack([a.shingle_values for a in articles])),
            words=np.concatenate([word_values(a.word_hashes) for a in articles]),
            word_counts=np.array([len(word_values(a.word_hashes)) for a in articles], dtype=np.int64),
        )


NO_CANDIDATES = Candidates(
    np.zeros(0, dtype=np.int64),
    np.zeros((0, NUM_PERM), dtype=np.uint8),
    np.zeros(0, dtype=np.uint16),
    np.zeros(0, dtype=np.int64),
)


class _Pool:
    """Runs of values one after another in one array, each article's at a start the table keeps:
    room is taken at the end; the array is compacted once half of it is garbage, else grown."""

    def __init__(self, size: int, dtype: type) -> None:
        self.values: np.ndarray = np.zeros(size, dtype=dtype)
        self.used = 0
        self.garbage = 0

    def reserve(
        self, count: int, live: Callable[[], tuple[np.ndarray, np.ndarray]], headroom: int = 0
    ) -> int:
        """Where `count` values go. `live` gives the live runs' starts (a column the table keeps,
        rewritten by a compaction: its rows are the runs' slots) and the runs' sizes by slot.
        Grown by a quarter, or by `headroom` beyond the values when it is given."""
        if self.used + count > len(self.values):
            if self.garbage * 2 >= self.used:
                self._compact(*live())
            if self.used + count > len(self.values):
                grown = self.used + count + headroom if headroom else len(self.values) * 5 // 4
                bigger = np.zeros(max(self.used + count, grown), dtype=self.values.dtype)
                bigger[: self.used] = self.values[: self.used]
                self.values = bigger
        start = self.used
        self.used += count
        return start

    def _compact(self, starts: np.ndarray, sizes: np.ndarray) -> None:
        """The live runs moved to the array's start in slot order (a new array: runs read before
        stay valid); `sizes` is 0 for a free slot."""
        live = np.flatnonzero(sizes)
        sizes = sizes[live].astype(np.int64)
        total = int(sizes.sum())
        values = np.zeros(max(len(self.values), total), dtype=self.values.dtype)
        if total:
            values[:total] = run_values(self.values, starts[live], sizes)
            starts[live] = np.cumsum(sizes) - sizes
        self.values, self.used, self.garbage = values, total, 0


def _headroom(size: int) -> int:
    """Room left when the table is filled in one piece: a run adds a few percent of its window."""
    return max(1024, size // 16)


class ArticleTable:
    """Articles by slot: fixed-size fields in columns, hash sets in two pools (words; terms)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._slot: dict[int, int] = {}
        self._free: list[int] = []
        self._size = 0  # slots ever handed out (the columns' used length)
        self.article_ids = np.zeros(capacity, dtype=np.int64)
        self.clusters = np.full(capacity, NO_CLUSTER, dtype=np.int64)
        self.seen = np.full(capacity, np.nan)
        self.arrived = np.zeros(capacity)
        self.shingles = np.zeros((capacity, NUM_PERM), dtype=np.uint8)  # low_bits()
        self._codes = np.zeros((capacity, DIMENSIONS), dtype=np.int8)  # embeddings: quantized()
        self._scales = np.zeros(capacity, dtype=np.float16)
        self._lengths = np.zeros((capacity, 3), dtype=np.int32)  # words, titles, salient terms
        self._words = _Pool(capacity * 160, np.uint16)  # word_values()
        self._word_starts = np.zeros(capacity, dtype=np.uint32)
        self._terms = _Pool(capacity * 32, np.uint32)  # titles, then salient terms
        self._term_starts = np.zeros(capacity, dtype=np.uint32)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, article_id: int) -> bool:
        return article_id in self._slot

    def slot(self, article_id: int) -> int:
        return self._slot[article_id]

    def slots(self, article_ids: Iterable[int]) -> np.ndarray:
        """slot() of each (int64): one C-level map over the dict, not a Python call each."""
        return np.array(list(map(self._slot.__getitem__, article_ids)), dtype=np.int64)

    def slot_or_none(self, article_id: int) -> int | None:
        return self._slot.get(article_id)

    def add(self, article: IndexedArticle) -> int:
        """Store an article in a free slot; its slot."""
        slot = self._free.pop() if self._free else self._new_slot()
        self._slot[article.article_id] = slot
        self.article_ids[slot] = article.article_id
        self.clusters[slot] = NO_CLUSTER if article.cluster_id is None else article.cluster_id
        self.seen[slot] = np.nan if article.seen is None else article.seen
        self.arrived[slot] = article.arrived
        self.shingles[slot] = low_bits(article.shingle_values)
        self._codes[slot], self._scales[slot] = quantized_row(article.embedding)
        words = word_values(article.word_hashes)
        terms = np.concatenate((article.title_hashes, article.salient_hashes)).astype(np.uint32)
        self._lengths[slot] = 0  # a reused slot's old runs are garbage, not live
        # One run each, put without _put_words' arrays of starts (a placement's add is per article).
        start = self._words.reserve(len(words), lambda: (self._word_starts, self._live_sizes(WORDS)))
        self._words.values[start : start + len(words)] = words
        self._word_starts[slot] = start
        start = self._terms.reserve(
            len(terms), lambda: (self._term_starts, self._live_sizes(TITLES, SALIENT))
        )
        self._terms.values[start : start + len(terms)] = terms
        self._term_starts[slot] = start
        self._lengths[slot] = (len(words), len(article.title_hashes), len(article.salient_hashes))
        return slot

    def put_many(self, articles: Sequence[IndexedArticle], words: Sequence[np.ndarray]) -> np.ndarray:
        """add() of each article in turn (the same slots), a column at a time; `words` are their
        word_values(). Their slots."""
        count = len(articles)
        if not count:
            return np.zeros(0, dtype=np.int64)
        reused = [self._free.pop() for _ in range(min(count, len(self._free)))]
        fresh = count - len(reused)
        while self._size + fresh > len(self.article_ids):
            self._grow(len(self.article_ids) + len(self.article_ids) // 4 + 16)  # as _new_slot grows
        slots = np.array(reused + list(range(self._size, self._size + fresh)), dtype=np.int64)
        self._size += fresh
        ids = [a.article_id for a in articles]
        self._slot.update(zip(ids, slots.tolist(), strict=True))
        self.article_ids[slots] = ids
        self.clusters[slots] = [NO_CLUSTER if a.cluster_id is None else a.cluster_id for a in articles]
        self.seen[slots] = [np.nan if a.seen is None else a.seen for a in articles]
        self.arrived[slots] = [a.arrived for a in articles]
        self.shingles[slots] = low_bits(np.stack([a.shingle_values for a in articles]))
        self._codes[slots], self._scales[slots] = quantized(np.stack([a.embedding for a in articles]))
        word_counts = np.fromiter(map(len, words), dtype=np.int64, count=count)
        titles = np.fromiter((len(a.title_hashes) for a in articles), dtype=np.int64, count=count)
        salient = np.fromiter((len(a.salient_hashes) for a in articles), dtype=np.int64, count=count)
        self._lengths[slots] = 0  # reused slots' old runs are garbage, not live
        self._put_words(slots, np.concatenate(words).astype(np.uint16), word_counts)
        terms = [part for a in articles for part in (a.title_hashes, a.salient_hashes)]
        self._put_terms(slots, np.concatenate(terms).astype(np.uint32), titles + salient)
        self._lengths[slots] = np.stack([word_counts, titles, salient], axis=1)
        return slots

    def add_many(
        self,
        article_ids: np.ndarray,
        clusters: np.ndarray,
        seen: np.ndarray,
        arrived: np.ndarray,
        shingles: np.ndarray,
        codes: np.ndarray,
        scales: np.ndarray,
        words: np.ndarray,
        terms: np.ndarray,
        lengths: np.ndarray,
    ) -> np.ndarray:
        """add() of many articles as whole columns, in the form the table keeps them (a run's start
        reads them so from the store): `shingles` their low_bits(), `codes` and `scales` their
        quantized() embeddings, `words` each article's word_values() in turn, `terms` its title
        hashes then its salient terms, `lengths` their counts (a row each: words, titles, salient
        terms). Their slots."""
        count = len(article_ids)
        first = self._size
        if first + count > len(self.article_ids):
            # Sized to the window a run opens, with room for a run's new articles: the growth
            # by a quarter of later adds would leave a fifth of the columns idle.
            self._grow(first + count + _headroom(first + count))
        slots = np.arange(first, first + count)
        rows = slice(first, first + count)  # the same slots: a slice is copied into, not scattered to
        self._size += count
        self._slot.update(zip(article_ids.tolist(), slots.tolist(), strict=True))
        self.article_ids[rows] = article_ids
        self.clusters[rows] = clusters
        self.seen[rows] = seen
        self.arrived[rows] = arrived
        self.shingles[rows] = low_bits(shingles)
        self._codes[rows], self._scales[rows] = codes, scales
        lengths = np.asarray(lengths, dtype=np.int64).reshape(count, 3)
        word_counts = lengths[:, WORDS]
        self._put_words(rows, words, word_counts, _headroom(self._words.used + len(words)))
        term_counts = lengths[:, TITLES] + lengths[:, SALIENT]
        terms = np.asarray(terms, dtype=np.uint32)
        self._put_terms(rows, terms, term_counts, _headroom(self._terms.used + len(terms)))
        self._lengths[rows] = np.stack([word_counts, lengths[:, TITLES], lengths[:, SALIENT]], axis=1)
        return slots

    def _put_words(
        self, slots: np.ndarray | slice, words: np.ndarray, counts: np.ndarray, headroom: int = 0
    ) -> None:
        """These slots' words (their runs one after another) into the words pool."""
        start = self._words.reserve(
            len(words), lambda: (self._word_starts, self._live_sizes(WORDS)), headroom
        )
        self._words.values[start : start + len(words)] = words
        self._word_starts[slots] = start + np.cumsum(counts) - counts

    def _put_terms(
        self, slots: np.ndarray | slice, terms: np.ndarray, counts: np.ndarray, headroom: int = 0
    ) -> None:
        """These slots' title and salient-term hashes (a run each: titles, then terms)."""
        start = self._terms.reserve(
            len(terms), lambda: (self._term_starts, self._live_sizes(TITLES, SALIENT)), headroom
        )
        self._terms.values[start : start + len(terms)] = terms
        self._term_starts[slots] = start + np.cumsum(counts) - counts

    def _live_sizes(self, *which: int) -> np.ndarray:
        """The size of each slot's run in a pool (the sum of these hash sets), 0 for a free slot."""
        sizes = self._lengths[:, list(which)].sum(axis=1).astype(np.int64)
        sizes[self._free] = 0
        return sizes

    def remove(self, article_id: int) -> int | None:
        """Free an article's slot (its row stays readable until the slot is reused); its slot."""
        slot = self._slot.pop(article_id, None)
        if slot is None:
            return None
        self._free.append(slot)
        words, titles, salient = self._lengths[slot].tolist()
        self._words.garbage += words
        self._terms.garbage += titles + salient
        return slot

    def hashes(self, slot: int, which: int) -> np.ndarray:
        """One of an article's hash sets, a view into its pool: WORDS (uint16: word_values()),
        TITLES or SALIENT (uint32)."""
        words, titles, salient = self._lengths[slot].tolist()
        if which == WORDS:
            start = int(self._word_starts[slot])
            return self._words.values[start : start + words]
        start = int(self._term_starts[slot]) + (titles if which == SALIENT else 0)
        return self._terms.values[start : start + (titles if which == TITLES else salient)]

    def hashes_of_many(self, slots: np.ndarray, which: int) -> tuple[np.ndarray, np.ndarray]:
        """One hash set of each of many articles, concatenated, and the sets' sizes."""
        lengths = self._lengths[slots].astype(np.int64)
        sizes = lengths[:, which]
        if which == WORDS:
            return run_values(self._words.values, self._word_starts[slots], sizes), sizes
        starts = self._term_starts[slots].astype(np.int64) + (lengths[:, TITLES] if which == SALIENT else 0)
        return run_values(self._terms.values, starts, sizes), sizes

    def shorts(self, slots: np.ndarray | int) -> np.ndarray:
        """Which are headlines or teasers, by their words as kept (IndexedArticle.short of rows)."""
        return self._lengths[slots, WORDS] < SHORT_TEXT_WORDS

    def cluster(self, slot: int) -> int | None:
        cluster = int(self.clusters[slot])
        return None if cluster == NO_CLUSTER else cluster

    def row(self, slot: int) -> IndexedArticle:
        seen = float(self.seen[slot])
        return IndexedArticle(
            article_id=int(self.article_ids[slot]),
            cluster_id=self.cluster(slot),
            seen=None if np.isnan(seen) else seen,
            arrived=float(self.arrived[slot]),
            shingle_values=self.shingles[slot],
            lsh_values=_NO_VALUES,
            salient_hashes=self.hashes(slot, SALIENT),
            word_hashes=self.hashes(slot, WORDS),
            title_hashes=self.hashes(slot, TITLES),
            embedding=self.vectors(np.array([slot]))[0],
        )

    def vectors(self, slots: np.ndarray | int) -> np.ndarray:
        """The embeddings of these slots (float32 rows; of any shape of slots), as kept: quantized()."""
        vectors = self._codes[slots].astype(np.float32)
        vectors *= self._scales[slots].astype(np.float32)[..., None]
        return vectors

    def candidates(self, slots: np.ndarray) -> Candidates:
        """The articles in these slots (in this order) as candidates."""
        if not len(slots):
            return NO_CANDIDATES
        words, counts = self.hashes_of_many(slots, WORDS)
        return Candidates(self.article_ids[slots], self.shingles[slots], words, counts)

    def _new_slot(self) -> int:
        slot = self._size
        if slot == len(self.article_ids):
            self._grow(slot + slot // 4 + 16)  # by a quarter: less idle capacity than doubling
        self._size += 1
        return slot

    def _grow(self, capacity: int) -> None:
        def grown(a: np.ndarray, fill: float | int = 0) -> np.ndarray:
            # Zeros come from the system as untouched pages: rows are written once, when filled.
            shape = (capacity, *a.shape[1:])
            out = np.zeros(shape, dtype=a.dtype) if fill == 0 else np.full(shape, fill, dtype=a.dtype)
            out[: len(a)] = a
            return out

        self.article_ids = grown(self.article_ids)
        self.clusters = grown(self.clusters, NO_CLUSTER)
        self.seen = grown(self.seen, np.nan)
        self.arrived = grown(self.arrived)
        self.shingles = grown(self.shingles)
        self._codes = grown(self._codes)
        self._scales = grown(self._scales)
        self._word_starts = grown(self._word_starts)
        self._term_starts = grown(self._term_starts)
        self._lengths = grown(self._lengths)
