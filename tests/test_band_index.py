"""The story index's LSH buckets as integer arrays: the candidates datasketch's MinHashLSH finds,
in a fraction of its memory."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHashLSH

from wirewatch.dedup.band_index import BandIndex, rows_sharing
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
    """Our numpy MinHash gives datasketch's values for any set, the empty one included (its LSH
    parameters and copy scores are datasketch's)."""
    from datasketch import LeanMinHash, MinHash

    from wirewatch.dedup.fingerprint import _PERMUTATIONS, MINHASH_SCHEME, MINHASH_SEED

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
        assert (ours.seed, ours.scheme) == (LeanMinHash(theirs).seed, LeanMinHash(theirs).scheme)


@pytest.mark.parametrize("chunk", [3, 200])
def test_inserts_left_for_the_thaw_leave_what_inserts_while_frozen_leave(chunk: int) -> None:
    """BandIndex.thaw(ids, keys): the inserts of a chunk left for its end leave the arrays and the
    pending keys as inserting each while frozen, then thawing, does (merged when a thaw merges)."""
    sets = _sets(1200, 11)
    values = np.stack([minhash_of(s).hashvalues for s in sets])
    ours, reference = BandIndex(*NEAR_LSH_BANDS_ROWS), BandIndex(*NEAR_LSH_BANDS_ROWS)
    for index in (ours, reference):
        index.insert_many(list(range(400)), values[:400])
    for start in range(400, 1200, chunk):
        ids = list(range(start, min(1200, start + chunk)))
        for index in (ours, reference):
            index.freeze()
            for gone in range(start - 400, start - 400 + len(ids) // 2):
                index.remove(gone)
        for article_id in ids:
            reference.insert(article_id, values[article_id])
        reference.thaw()
        ours.thaw(ids, ours.keys_of_many(values[ids]))
        assert np.array_equal(ours._keys, reference._keys) and np.array_equal(ours._ids, reference._ids)
        assert ours._pending == reference._pending and ours._pending_more == reference._pending_more
        assert ours._removed == reference._removed and len(ours) == len(reference)


def test_minhashes_of_runs_are_minhash_of_each() -> None:
    """A chunk's LSH MinHashes at once (fingerprint.minhashes_of_runs): each set's own values, the
    empty set's and sets split across blocks of permuted values included."""
    from wirewatch.dedup.fingerprint import minhashes_of_runs

    rng = np.random.default_rng(3)
    sets = [
        rng.integers(0, 1 << 32, size=int(n), dtype=np.uint64).astype(np.uint32)
        for n in rng.integers(0, 40, 700)
    ]
    sets[0], sets[3], sets[-1] = sets[0][:0], sets[3][:0], sets[-1][:0]
    sets.insert(5, rng.integers(0, 1 << 32, size=5000, dtype=np.uint64).astype(np.uint32))
    ours = minhashes_of_runs(np.concatenate(sets), np.array([len(s) for s in sets]))
    for values, got in zip(sets, ours, strict=True):
        expected = minhash_of(values)
        assert (
            np.array_equal(got.hashvalues, expected.hashvalues)
            and got.hashvalues.dtype == expected.hashvalues.dtype
        )
        assert (got.seed, got.scheme) == (expected.seed, expected.scheme)


def test_rows_sharing_a_key_are_those_np_isin_finds() -> None:
    """The waiting articles an article placed as if alone is compared with: rows holding any of its
    band keys, exactly, also when keys agree in the low bits the first look goes by."""
    rng = np.random.default_rng(7)
    for bands in (NEAR_LSH_BANDS_ROWS[0], 64):
        rows = rng.integers(0, 1 << 32, (300, bands), dtype=np.uint32)
        keys = rows[rng.integers(0, 300)].copy()
        rows[::7, 0] = (rows[::7, 0] & 0xFFFF0000) | (keys[0] & 0xFFFF)  # low bits only: no match
        rows[::11, -1] = keys[-1]  # a shared key: a match
        for asked in (keys, rng.integers(0, 1 << 32, bands, dtype=np.uint32), keys[:3], keys[:0]):
            expected = np.flatnonzero(np.isin(rows, asked).any(axis=1))
            assert rows_sharing(rows, asked).tolist() == expected.tolist()
        assert rows_sharing(rows[:0], keys).tolist() == []
