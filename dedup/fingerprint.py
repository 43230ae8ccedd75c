"""MinHash fingerprints of an article: seeded, deterministic, stored with datasketch's serialisation."""

from __future__ import annotations

from dataclasses import dataclass

from datasketch import LeanMinHash, MinHash

from dedup.features import content_words, salient_terms, shingles

# 128 permutations: Jaccard estimates within about +-0.09 (2 sigma), enough to find candidates;
# decisions are verified on exact sets.
NUM_PERM = 128
# Below this many content words a text is a headline or a teaser, not an article.
SHORT_TEXT_WORDS = 20
# A fixed seed makes fingerprints comparable across runs and machines.
MINHASH_SEED = 1


@dataclass(frozen=True, slots=True)
class Fingerprint:
    shingle_hash: LeanMinHash  # word 3-shingles: finds copies
    salient_hash: LeanMinHash  # names and numbers: finds rewrites of the same event
    words: frozenset[str]  # content words: verifies a same-story match exactly

    def shingle_bytes(self) -> bytes:
        return hash_bytes(self.shingle_hash)

    def salient_bytes(self) -> bytes:
        return hash_bytes(self.salient_hash)


def _minhash(tokens: set[str]) -> LeanMinHash:
    mh = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    mh.update_batch([t.encode("utf-8") for t in sorted(tokens)])
    return LeanMinHash(mh)


def hash_bytes(mh: LeanMinHash) -> bytes:
    """datasketch's own serialisation: it records seed and permutation scheme with the values."""
    buf = bytearray(mh.bytesize())
    mh.serialize(buf)
    return bytes(buf)


def minhash_from_bytes(raw: bytes) -> LeanMinHash:
    return LeanMinHash.deserialize(raw)


def fingerprint_text(title: str, text: str) -> Fingerprint:
    # The title as a sentence of its own, so its first word is not taken for a name.
    body = f"{title}.\n{text}"
    words = content_words(body)
    # A headline or feed summary is too short for names to stand out (Title Case makes every
    # word look like one): its content words are its salient terms.
    salient = salient_terms(body) if len(words) >= SHORT_TEXT_WORDS else set()
    return Fingerprint(
        shingle_hash=_minhash(shingles(text or title)),
        salient_hash=_minhash(salient or words),
        words=frozenset(words),
    )
