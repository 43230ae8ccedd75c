"""MinHash fingerprints of an article: seeded, deterministic, stored with datasketch's serialisation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from wirewatch.dedup.embedding import embed, embedding_text
from wirewatch.dedup.features import content_words_of, salient_terms, shingle_hashes, term_hashes, words_of
from wirewatch.dedup.minhash_classes import LeanMinHash, MinHash

# 128 permutations: Jaccard estimates within about +-0.09 (2 sigma), enough to find candidates;
# decisions are verified on exact sets.
NUM_PERM = 128
# Below this many content words a text is a headline or a teaser, not an article.
SHORT_TEXT_WORDS = 20
# A fixed seed and scheme make fingerprints comparable across runs and machines.
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
# Drawn once: datasketch would draw them again for every MinHash (a third of its cost).
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


@dataclass(frozen=True, slots=True)
class Fingerprint:
    shingle_hash: LeanMinHash  # word 3-shingles: finds copies
    salient_hashes: np.ndarray  # names and numbers (content words of a headline): find rewrites
    word_hashes: np.ndarray  # content words: verify a same-story match exactly
    title_hashes: np.ndarray  # the title's content words: match a headline to a story's headlines
    words: frozenset[str]  # the content words themselves, for explaining a match
    embedding: np.ndarray  # unit vector (float32) of the title and lead: dedup.embedding

    @property
    def short(self) -> bool:
        """A headline or a teaser: too few words for names to stand out."""
        return len(self.words) < SHORT_TEXT_WORDS


# As columns: a set's values permuted make a (NUM_PERM, values) matrix whose rows are reduced
# along memory (a column-wise minimum is numpy's slow walk).
_A, _B = (np.ascontiguousarray(row, dtype=np.uint32)[:, None] for row in _PERMUTATIONS)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # an empty MinHash's values


def _premixed(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, which datasketch's affine32 scheme applies to each value first."""
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hashes.astype(np.uint32)
    with np.errstate(over="ignore"):
        hv = hv ^ (hv >> s1)
        hv *= m1
        hv ^= hv >> s2
        hv *= m2
        return hv ^ (hv >> s3)


def minhash_values(hashes: np.ndarray) -> np.ndarray:
    """The MinHash values (uint32) datasketch's MinHash.update_batch gives a set already hashed to
    32-bit values (the identity as hashfunc), without its objects and per-value list: half the
    time (about 50 us for 300 values; the permutations themselves are most of it)."""
    if not len(hashes):
        return _EMPTY.copy()
    with np.errstate(over="ignore"):
        permuted = _A * _premixed(hashes)
        permuted += _B  # in place: one (NUM_PERM, values) matrix allocated, not two
        return permuted.min(axis=1)


def minhash_of(hashes: np.ndarray) -> LeanMinHash:
    """datasketch MinHash of a set already hashed to 32-bit values (the identity as hashfunc)."""
    return LeanMinHash(seed=MINHASH_SEED, hashvalues=minhash_values(hashes), scheme=MINHASH_SCHEME)


# Values permuted at a time by minhashes_of_runs: a (NUM_PERM, values) uint32 block of 2 MB.
_PERMUTED_VALUES = 4096


def minhashes_of_runs(hashes: np.ndarray, sizes: np.ndarray) -> list[LeanMinHash]:
    """minhash_of() of each run of hashes (runs of `sizes`, one after another), the same values:
    the permutations of many sets at once and each run's minimum in one reduction, not a few
    numpy calls a set."""
    values = np.tile(_EMPTY, (len(sizes), 1))
    ends = np.cumsum(sizes)
    starts = ends - sizes
    filled = np.flatnonzero(sizes)
    filled_ends, first = ends[filled], 0
    while first < len(filled):  # whole runs, about _PERMUTED_VALUES values at a time
        budget = starts[filled[first]] + _PERMUTED_VALUES
        last = max(first + 1, int(np.searchsorted(filled_ends, budget, side="right")))
        runs = filled[first:last]
        a, b = int(starts[runs[0]]), int(ends[runs[-1]])
        with np.errstate(over="ignore"):
            permuted = _A * _premixed(hashes[a:b])
            permuted += _B
        values[runs] = np.minimum.reduceat(permuted, starts[runs] - a, axis=1).T
        first = last
    return [LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme=MINHASH_SCHEME) for row in values]


# Articles fingerprinted together: the embedding model costs per call about what it costs per
# headline, and a feed of 20,000 entries is not held in memory as fingerprints all at once.
FINGERPRINT_CHUNK = 256


def fingerprint_in_chunks(items: Sequence[tuple[str, str]]) -> Iterator[Fingerprint]:
    """fingerprint_many of (title, text) pairs, FINGERPRINT_CHUNK at a time, in this process."""
    for start in range(0, len(items), FINGERPRINT_CHUNK):
        yield from fingerprint_many(items[start : start + FINGERPRINT_CHUNK])


def fingerprint_text(title: str, text: str) -> Fingerprint:
    return fingerprint_many([(title, text)])[0]


def fingerprint_many(
    items: Sequence[tuple[str, str]], words: Sequence[tuple[list[str], list[str]]] | None = None
) -> list[Fingerprint]:
    """fingerprint_text of each (title, text); the embeddings in one call of the model, which
    costs per call as much as per text for short ones (equal vectors: padding is masked).
    `words`: words_of(title) and words_of(text) of each, when the caller has read them already."""
    if not items:
        return []
    vectors = embed([embedding_text(title, text) for title, text in items])
    if words is None:
        words = [(words_of(title), words_of(text)) for title, text in items]
    return [
        _fingerprint(title, text, vector, title_words, text_words)
        for (title, text), vector, (title_words, text_words) in zip(items, vectors, words, strict=True)
    ]


def _fingerprint(
    title: str, text: str, embedding: np.ndarray, title_words: list[str], text_words: list[str]
) -> Fingerprint:
    # The title as a sentence of its own, so its first word is not taken for a name.
    body = f"{title}.\n{text}"
    all_words = title_words + text_words
    words = content_words_of(all_words)
    # A headline or feed summary is too short for names to stand out (Title Case makes every
    # word look like one): its content words are its salient terms.
    salient = salient_terms(body) if len(words) >= SHORT_TEXT_WORDS else set()  # see .short
    return Fingerprint(
        shingle_hash=minhash_of(shingle_hashes(all_words[len(title_words) :] if text else title_words)),
        salient_hashes=term_hashes(salient or words),
        word_hashes=term_hashes(words),
        title_hashes=term_hashes(content_words_of(title_words)),
        words=frozenset(words),
        embedding=embedding,
    )
