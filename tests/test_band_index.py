"""The story index's LSH buckets as integer arrays: the candidates datasketch's MinHashLSH finds,
in a fraction of its memory."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHashLSH

from wirewatch.dedup.band_index import BandIndex
from wirewatch.dedup.fingerprint import NUM_PERM, minhash_of
from wirewatch.dedup.index import NEAR_DUPLICATE_JACCARD, NEAR_LSH_BANDS_ROWS

# A regression guard, measured with tracemalloc: 2.5 KB an article here (1,500 articles added one
# by one; 2.0 KB as a run opens a 21,000-article window, sized to it), with every article a row
# of shared arrays, 8-bit shingle signatures, int8 embeddings and 16-bit content words; 3.3 KB
# with 16-bit signatures, float16 embeddings and 32-bit words, 7.0 KB with an object per
# article, 32 KB with datasketch's MinHashLSH. Any of the wider columns back would fail it.
MAX_INDEX_BYTES_PER_ARTICLE = 2_700


def _sets(count: int, seed: int) -> list[np.ndarray]:
    """Word-hash sets in families of near-copies, so that LSH has real matches to find."""
    rng = random.Random(seed)
    out = []
    for _ in range(count // 4):
        base = rng.sample(range(1, 1 << 30), 40)
        for _ in range(4):
            edited = [w if rng.random() > 0.1 else rng.randrange(1, 1 << 30) for w in base]
            out.append(np.array(sorted(set(edited)), dtype=np.uint32))
    return out


def test_near_copy_bands_are_datasketchs_own_choice() -> None:
    chosen = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    assert (chosen.b, chosen.r) == NEAR_LSH_BANDS_ROWS


def test_same_candidates_as_datasketch_through_inserts_removals_and_merges() -> None:
    hashes = [minhash_of(s) for s in _sets(2000, seed=1)]
    ours, theirs = BandIndex(*NEAR_LSH_BANDS_ROWS), MinHashLSH(num_perm=NUM_PERM, params=NEAR_LSH_BANDS_ROWS)
    for n, mh in enumerate(hashes):  # 2,000 x 25 bands: several merges of the pending keys
        ours.insert(n, mh.hashvalues)
        theirs.insert(n, mh)
    for n in range(0, 2000, 3):  # a third removed, as the window evicts them
        ours.remove(n)
        theirs.remove(n)
    for n in range(0, 300, 3):  # and some come back
        ours.insert(n, hashes[n].hashvalues)
        theirs.insert(n, hashes[n])
    found = 0
    for mh in hashes:
        expected = set(theirs.query(mh))
        assert ours.query(mh.hashvalues) == expected
        found += len(expected)
    assert found > 2 * len(ours)  # the families were found, not only each set itself
    assert len(ours) == len(theirs.keys)


def test_index_memory_per_article_stays_small() -> None:
    """Articles of the clustering benchmark's synthetic stream (stories with their own names and
    words over a common vocabulary), fingerprinted and indexed: what the index keeps of each."""
    from benchmarks.clustering import index_bytes_per_article

    assert index_bytes_per_article(1500) < MAX_INDEX_BYTES_PER_ARTICLE


def test_minhash_values_are_datasketchs_own() -> None:
    """Fingerprints stored by earlier versions and computed now must compare: our numpy MinHash
    gives datasketch's values and bytes for any set, the empty one included."""
    from datasketch import LeanMinHash, MinHash

    from wirewatch.dedup.fingerprint import _PERMUTATIONS, MINHASH_SCHEME, MINHASH_SEED, hash_bytes

    rng = np.random.default_rng(5)
    sets = [rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32) for n in (0, 1, 3, 57, 900)]
    sets.append(np.array([0, 1, (1 << 32) - 1], dtype=np.uint32))
    for values in sets:
        theirs = MinHash(
            num_perm=NUM_PERM,
            seed=MINHASH_SEED,
            permutations=_PERMUTATIONS,
            scheme=MINHASH_SCHEME,
            hashfunc=int,
        )
        theirs.update_batch(values.tolist())
        ours = minhash_of(values)
        assert ours.hashvalues.dtype == theirs.hashvalues.dtype
        assert np.array_equal(ours.hashvalues, theirs.hashvalues), len(values)
        assert hash_bytes(ours) == hash_bytes(LeanMinHash(theirs))
