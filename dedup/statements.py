"""What a story has said: sentences compared by their content words (dedup.sentences reads them),
packed to keep beside an article, and indexed by word to find those making the same statement.

Two sentences make the same statement when most of the shorter one's content words are in the other.
The index holds words as 32-bit hashes (CRC-32, as features.term_hashes) in flat sorted arrays: a
story's statements are added, read back and looked up with a few numpy calls, where a dict of
word lists took a Python step per word (a third of placing an article in a story of rewrites).
Two sentences' ~15 words collide by chance with probability ~5e-8.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from wirewatch.dedup.runs import run_sums, run_values, search_bounds, sorted_unique
from wirewatch.dedup.sentences import Sentence

# Share of the shorter sentence's content words the other must have to say the same thing.
SAME_STATEMENT = 0.6
# And at least this many words in common.
SHARED_WORDS = 3


def same_statement(a: Sentence, b: Sentence) -> bool:
    shared = len(a.words & b.words)
    return shared >= SHARED_WORDS and shared >= SAME_STATEMENT * min(len(a.words), len(b.words))


# The packed form: this tag, the sentence and hash counts (u4 each), each sentence's word count
# (u4), the hashes (u4) and the terms (UTF-8, a line each; a term is one token). What was packed
# before (schema v14-v17 stores) is zlib-compressed JSON of words and terms, still read.
_TAG = b"WWS1"
_HEADER = struct.Struct("<4sII")
_U4 = np.dtype("<u4")
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


@dataclass(frozen=True, slots=True)
class Statements:
    """Sentences' content words as hashes, each sentence's distinct and sorted, one sentence after
    another (`sizes` of them each), and the names and numbers all of them tell."""

    hashes: np.ndarray  # uint32
    sizes: np.ndarray  # int64, one per sentence
    terms: frozenset[str]

    def __len__(self) -> int:
        return len(self.sizes)

    @classmethod
    def of(cls, sentences: Iterable[Sentence]) -> Statements:
        sentences = list(sentences)
        return cls.of_words([s.words for s in sentences], frozenset().union(*(s.terms for s in sentences)))

    @classmethod
    def of_words(cls, words: Sequence[Iterable[str]], terms: Iterable[str]) -> Statements:
        """Each sentence's words hashed; a sentence's hashes made distinct and sorted in one pass
        over all of them (keyed by sentence, then hash)."""
        lists = [list(w) for w in words]
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        hashed = np.fromiter(
            map(zlib.crc32, map(str.encode, chain.from_iterable(lists))),
            dtype=np.uint64,
            count=int(counts.sum()),
        )
        sentence_of = np.repeat(np.arange(len(lists), dtype=np.uint64), counts)
        keyed = sorted_unique(sentence_of << _SHIFT | hashed)
        sizes = np.bincount((keyed >> _SHIFT).astype(np.int64), minlength=len(lists))
        return cls(keyed.astype(np.uint32), sizes, frozenset(terms))

    @classmethod
    def joined(cls, parts: Sequence[Statements]) -> Statements:
        """All of `parts`' sentences, in order."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.hashes for p in parts]) if parts else np.zeros(0, dtype=np.uint32),
            np.concatenate([p.sizes for p in parts]) if parts else np.zeros(0, dtype=np.int64),
            frozenset().union(*(p.terms for p in parts)),
        )

    def packed(self) -> bytes:
        """To keep beside an article: StatementIndex reads it back (unpacked) without splitting
        the article's text again or hashing its words."""
        return b"".join(
            (
                _HEADER.pack(_TAG, len(self.sizes), len(self.hashes)),
                self.sizes.astype(_U4).tobytes(),
                self.hashes.astype(_U4).tobytes(),
                "\n".join(sorted(self.terms)).encode(),
            )
        )

    @classmethod
    def unpacked(cls, raw: bytes) -> Statements:
        """What packed() kept, or what a store of schema v14-v17 kept."""
        if raw[:4] != _TAG:
            said = json.loads(zlib.decompress(raw))
            return cls.of_words([words for words, _, _ in said], chain.from_iterable(t for _, t, _ in said))
        _, count, hashed = _HEADER.unpack_from(raw)
        at = _HEADER.size
        sizes = np.frombuffer(raw, dtype=_U4, count=count, offset=at).astype(np.int64)
        hashes = np.frombuffer(raw, dtype=_U4, count=hashed, offset=at + 4 * count).astype(np.uint32)
        terms = raw[at + 4 * (count + hashed) :]
        return cls(hashes, sizes, frozenset(terms.decode().split("\n")) if terms else frozenset())


_NO_KEYS = np.zeros(0, dtype=np.uint64)
_NO_SIZES = np.zeros(0, dtype=np.int64)
# Odd 64-bit multiplier (golden ratio): a sentence's key is the sum of its words' hashes so mixed.
_MIX = np.uint64(0x9E3779B97F4A7C15)
# Cells of the (sentences asked, sentences indexed) count matrix built at a time.
_SHARED_CELLS = 1 << 20


class StatementIndex:
    """The statements a story has made, looked up by their words: a sentence is compared only
    with those sharing a word with it, not with every sentence of a large story.

    With `distinct`, a sentence already indexed word for word (twenty copies of a wire story) is
    indexed once: what is said is the same, and the index stays the size of one copy. Without
    it, positions are insertion order (dedup.summary counts on that).
    """

    def __init__(self, *, distinct: bool = False) -> None:
        # Each indexed word as its hash and the position of its sentence (hash << 32 | position),
        # sorted: a word's sentences are one run, found by two binary searches.
        self._keys = _NO_KEYS
        self._sizes = _NO_SIZES  # each indexed sentence's word count, by position
        self._distinct = distinct
        self._seen: set[int] = set()  # with `distinct`: the indexed sentences' keys (_sentence_keys)
        self.terms: set[str] = set()

    def __len__(self) -> int:
        return len(self._sizes)

    def add(self, statements: Statements) -> None:
        self.terms.update(statements.terms)
        hashes, sizes = statements.hashes, statements.sizes
        if self._distinct:
            kept = self._unseen(statements)
            if not kept.all():
                hashes, sizes = hashes[np.repeat(kept, sizes)], sizes[kept]
        if not len(sizes):
            return
        positions = np.repeat(
            np.arange(len(self._sizes), len(self._sizes) + len(sizes), dtype=np.uint64), sizes
        )
        new = np.sort(hashes.astype(np.uint64) << _SHIFT | positions)
        # Merged into the sorted keys: a copy of them, not a sort of all.
        at = np.searchsorted(self._keys, new) + np.arange(len(new))
        merged = np.empty(len(self._keys) + len(new), dtype=np.uint64)
        old = np.ones(len(merged), dtype=bool)
        old[at] = False
        merged[at] = new
        merged[old] = self._keys
        self._keys = merged
        self._sizes = np.concatenate((self._sizes, sizes))

    def _unseen(self, statements: Statements) -> np.ndarray:
        """Which sentences are not indexed yet (nor came earlier among these), now seen."""
        seen = self._seen
        kept = np.zeros(len(statements), dtype=bool)
        for k, key in enumerate(_sentence_keys(statements).tolist()):
            if key not in seen:
                seen.add(key)
                kept[k] = True
        return kept

    def shares(self, statements: Statements) -> np.ndarray:
        """Whether each sentence has a content word an indexed sentence has."""
        if not len(self._keys):
            return np.zeros(len(statements), dtype=bool)
        first = statements.hashes.astype(np.uint64) << _SHIFT
        at = np.minimum(search_bounds(self._keys, first, None)[0], len(self._keys) - 1)
        return run_sums((self._keys[at] >> _SHIFT) == statements.hashes, statements.sizes) > 0

    def said(self, statements: Statements, which: Sequence[int]) -> np.ndarray:
        """Whether an indexed sentence makes the same statement as each of the `which` sentences."""
        asked = np.asarray(which, dtype=np.int64)
        found = np.zeros(len(asked), dtype=bool)
        for rows, _ in self._same(statements, asked):
            found[rows] = True
        return found

    def supporters(self, statements: Statements) -> list[list[int]]:
        """For each sentence, the indexed sentences making the same statement (their positions)."""
        pairs = list(self._same(statements, np.arange(len(statements))))
        if not pairs:
            return [[] for _ in range(len(statements))]
        row, position = (np.concatenate(side) for side in zip(*pairs, strict=True))
        ends = np.searchsorted(row, np.arange(len(statements)), side="right").tolist()
        return [position[a:b].tolist() for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def _same(self, statements: Statements, asked: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The pairs (row of `asked`, indexed sentence) making the same statement, ordered by row
        then position; a block of asked sentences at a time, each counting the words it shares
        with every indexed sentence in one bincount."""
        if not len(asked) or not len(self._sizes):
            return
        ends = np.cumsum(statements.sizes)
        starts = ends - statements.sizes
        indexed = len(self._sizes)
        block = max(1, _SHARED_CELLS // indexed)
        for first in range(0, len(asked), block):
            rows = asked[first : first + block]
            sizes = statements.sizes[rows]
            words = run_values(statements.hashes, starts[rows], sizes).astype(np.uint64) << _SHIFT
            low, high = search_bounds(self._keys, words, words | _LOW32)
            hits = high - low
            row_of_hit = np.repeat(np.repeat(np.arange(len(rows)), sizes), hits)
            owners = (run_values(self._keys, low, hits) & _LOW32).astype(np.int64)
            shared = np.bincount(row_of_hit * indexed + owners, minlength=len(rows) * indexed)
            cells = np.flatnonzero(shared >= SHARED_WORDS)  # few: the rule's share only for them
            row, owner = np.divmod(cells, indexed)
            same = shared[cells] >= SAME_STATEMENT * np.minimum(sizes[row], self._sizes[owner])
            yield first + row[same], owner[same]


def _sentence_keys(statements: Statements) -> np.ndarray:
    """A 64-bit key of each sentence's set of words: the sum of its words' hashes, mixed."""
    mixed = statements.hashes.astype(np.uint64) * _MIX
    mixed ^= mixed >> _SHIFT
    return run_sums(mixed, statements.sizes, np.uint64)
