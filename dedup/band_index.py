"""MinHash LSH buckets as integer arrays: what datasketch's MinHashLSH finds, in ~1/20 of its memory.

datasketch keeps, per band, a dict from the band's bytes to a set of keys, and per key the list of
its band bytes: about 300 bytes per band and article in Python objects (30 KB an article for
wirewatch's 89 bands). Here each band of r MinHash values is mixed into one 32-bit key, and the
keys live in one sorted array beside the article ids (8 bytes a band), found by binary search.
New keys wait in a small dict, then are sorted and merged into
the arrays in one linear pass; removed articles are skipped at query time and dropped from the
arrays once they are a quarter of them. Same bands and rows as datasketch, so the same
candidates but for 32-bit key collisions: b keys queried against the b keys of each of N articles
meet one by chance about b * b * N / 2^32 times (both tiers: 0.02 at 21,000 articles, 0.8 at
700,000); each adds one candidate, which the exact check after LSH discards.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from wirewatch.dedup.runs import find_sorted, run_positions, search_bounds, sorted_unique

# The story index's two tiers. The LSH bands x rows that find near copies (dedup.index:
# NEAR_DUPLICATE_JACCARD): datasketch's MinHashLSH(threshold=0.5, num_perm=128) chooses 25 x 5
# (its least false positives and negatives, equally weighted).
NEAR_LSH_BANDS_ROWS = (25, 5)
# LSH bands x rows over names-and-numbers sets. 64 bands of 2 rows find a pair sharing 0.34 of
# them (the lowest same-story pair on the seeds) with probability 0.9995, one sharing 0.05 with
# probability 0.15; the story index's exact content-word check discards the extra candidates.
SALIENT_LSH_BANDS_ROWS = (64, 2)
# Fixed odd multipliers (from a seeded generator): the same keys in every process and run.
_MIX = np.random.default_rng(20261129).integers(1, 2**63, size=(256, 16), dtype=np.uint64) | np.uint64(1)
_SALT = np.random.default_rng(20261130).integers(1, 2**63, size=256, dtype=np.uint64)
# New keys are merged into the sorted arrays at this many (about 23 articles of 89 bands), or at
# 1/256 of the arrays: the dict stays small, and as a merge copies the arrays once (~10 ms at
# 2 million keys), its cost per key stays flat as they grow.
MERGE_KEYS = 1 << 11
# Removed articles' keys are dropped when they reach this many, or a quarter of the arrays.
MIN_PURGE_KEYS = 1 << 16
# Rows of MinHash values mixed at a time: 200-500 KB of 64-bit mixes (1.4x faster than all at once).
_MIX_ROWS = 1024
# Which uint32 half of a uint64 holds its high bits.
_HIGH_HALF = 1 if sys.byteorder == "little" else 0


class BandIndex:
    """Article ids by the LSH band keys of their MinHash values (bands x rows values)."""

    def __init__(self, bands: int, rows: int) -> None:
        self.bands, self.rows = bands, rows
        self._mix = _MIX[:bands, :rows]
        self._last_values = b""  # the values keys() was last given (uint64 bytes), and their keys
        self._last_keys = np.empty(0, dtype=np.uint32)
        self._keys = np.empty(0, dtype=np.uint32)  # sorted
        self._ids = np.empty(0, dtype=np.int32)  # the article of each key
        self._pending: dict[int, int] = {}  # key -> an article, not yet in the arrays
        self._pending_more: dict[int, list[int]] = {}  # key -> its other pending articles
        self._pending_keys = 0
        self._removed: set[int] = set()  # articles still in the arrays or pending, to be skipped
        self._count = 0  # articles in (no set of them: the story index's table knows which)
        # While a chunk is placed, the arrays stay as they were at its start: what lookup_many()
        # found in them then is still there (the chunk's own keys wait in the dict).
        self._frozen = False

    def __len__(self) -> int:
        return self._count

    def keys(self, values: np.ndarray) -> np.ndarray:
        """One 32-bit key per band: the band's values mixed by fixed odd multipliers (wrapping)."""
        # One row (a placement's query): fewer numpy calls than keys_of_many's blocks, same keys.
        # Array arithmetic wraps without a warning (only numpy scalars warn): no errstate here.
        bands = values[: self.bands * self.rows].astype(np.uint64)
        raw = bands.tobytes()
        if raw == self._last_values:  # placing an article queries its values, then inserts them
            return self._last_keys
        mixed = np.multiply(bands.reshape(self.bands, self.rows), self._mix).sum(axis=1, dtype=np.uint64)
        _finish_mix(mixed, np.empty_like(mixed))
        keys = (mixed >> np.uint64(32)).astype(np.uint32)
        keys.flags.writeable = False  # shared by the query and the insert of one article
        self._last_values, self._last_keys = raw, keys
        return keys

    def keys_of_many(self, values: np.ndarray) -> np.ndarray:
        """keys() of each row of a matrix of MinHash values: a (rows, bands) matrix."""
        return (self._mixed(values) >> np.uint64(32)).astype(np.uint32)

    def _mixed(self, values: np.ndarray) -> np.ndarray:
        """The 64-bit mix of each band of each row, whose high 32 bits are its key."""
        if values.dtype.kind != "u":
            values = values.astype(np.uint64)  # wrapping as before: any integers, not a float product
        mixed = np.empty((len(values), self.bands), dtype=np.uint64)
        term = np.empty((min(len(values), _MIX_ROWS), self.bands), dtype=np.uint64)
        # A block of rows at a time (its arrays stay in the cache), one multiply-add per row of a
        # band: a sum over an axis of 2 or 5 values is numpy's slowest reduction.
        for start in range(0, len(values), _MIX_ROWS):
            block = values[start : start + _MIX_ROWS, : self.bands * self.rows]
            self._mix_block(
                block.reshape(len(block), self.bands, self.rows), mixed[start : start + _MIX_ROWS], term
            )
        return mixed

    def _mix_block(self, bands: np.ndarray, mixed: np.ndarray, term: np.ndarray) -> None:
        """Mixes of a block of bands (rows, bands, rows per band) into `mixed`; `term` is scratch room."""
        term = term[: len(bands)]
        with np.errstate(over="ignore"):
            np.multiply(bands[:, :, 0], self._mix[:, 0], out=mixed)
            for row in range(1, self.rows):
                mixed += np.multiply(bands[:, :, row], self._mix[:, row], out=term)
        _finish_mix(mixed, term)

    def insert(self, article_id: int, values: np.ndarray, keys_of_values: np.ndarray | None = None) -> None:
        """Index an article (one not in: the caller knows which are); `keys_of_values`: its keys(),
        when known."""
        if article_id in self._removed:
            self._merge(purge=True)  # its old keys go first, so they cannot come back with it
        self._count += 1
        keys = (self.keys(values) if keys_of_values is None else keys_of_values).tolist()
        pending = self._pending
        # A key has one article in `pending`, and any further ones in `_pending_more` (rare: two
        # near copies waiting together); dict.fromkeys sets the usual case in one C call.
        clash = pending.keys() & keys if pending else set()
        if clash:
            for key in clash:
                self._pending_more.setdefault(key, []).append(article_id)
            pending.update((key, article_id) for key in keys if key not in clash)
        else:
            pending.update(dict.fromkeys(keys, article_id))
        self._pending_keys += self.bands
        if self._pending_keys >= max(MERGE_KEYS, len(self._keys) >> 8) and not self._frozen:
            self._merge(purge=False)

    def insert_many(self, article_ids: list[int], values: np.ndarray) -> None:
        """insert() of many articles at once (a row of values each), in one sort."""
        self.insert_keys_many(article_ids, self.keys_of_many(values))

    def insert_keys_many(self, article_ids: list[int], keys: np.ndarray) -> None:
        """insert_many() of articles whose keys are known (rows of keys_of_many(), as the store
        keeps them): a run's start."""
        if not article_ids:
            return
        if self._removed.intersection(article_ids):
            self._merge(purge=True)
        self._merge(purge=False)  # pending keys first, so the arrays hold everything
        ids = np.array(article_ids, dtype=np.int32).astype(np.uint32).astype(np.uint64)
        # Sorted as one 64-bit array of key and id (5x faster than a stable argsort of the keys):
        # the high half is the key, the low half its article.
        packed = np.asarray(keys, dtype=np.uint32).astype(np.uint64) << np.uint64(32)
        packed |= ids[:, None]
        packed = packed.ravel()
        if len(self._keys):
            old = (self._keys.astype(np.uint64) << np.uint64(32)) | self._ids.astype(np.uint32)
            packed = np.concatenate([old, packed])
        packed.sort()
        halves = packed.view(np.uint32).reshape(-1, 2)
        self._keys = halves[:, _HIGH_HALF].copy()
        self._ids = halves[:, 1 - _HIGH_HALF].view(np.int32).copy()
        self._count += len(article_ids)

    def remove(self, article_id: int) -> None:
        """Forget an article (one in)."""
        self._count -= 1
        self._removed.add(article_id)
        if len(self._removed) * self.bands >= max(MIN_PURGE_KEYS, len(self._keys) // 4) and not self._frozen:
            self._merge(purge=True)

    def freeze(self) -> None:
        """Pending keys into the arrays, which then keep still until thaw(): inserts wait in the
        dict, removals in the removed set."""
        self._merge(purge=False)
        self._frozen = True

    def thaw(self, article_ids: Sequence[int] = (), keys: np.ndarray | None = None) -> None:
        """Back to merging and purging as inserts and removals come; first the inserts of
        `article_ids` (`keys`: their keys(), a row each) that came while frozen and were left for
        this: into the arrays with the pending keys in one pass when thaw() would merge them."""
        if len(article_ids) and keys is not None:
            purge = len(self._removed) * self.bands >= max(MIN_PURGE_KEYS, len(self._keys) // 4)
            waiting = self._pending_keys + len(article_ids) * self.bands
            merging = purge or waiting >= max(MERGE_KEYS, len(self._keys) >> 8)
            if merging and not self._removed.intersection(article_ids) and _distinct_rows(keys):
                self._count += len(article_ids)
                ids = np.repeat(np.asarray(article_ids, dtype=np.int32), self.bands)
                self._merge(purge=purge, more=(ids, keys))
                self._frozen = False
                return
            for article_id, row in zip(article_ids, keys, strict=True):  # as they came, into the dict
                self.insert(article_id, row, row)
        self._frozen = False
        if len(self._removed) * self.bands >= max(MIN_PURGE_KEYS, len(self._keys) // 4):
            self._merge(purge=True)
        elif self._pending_keys >= max(MERGE_KEYS, len(self._keys) >> 8):
            self._merge(purge=False)

    def lookup_many(self, keys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The articles in the arrays sharing a key with each row of `keys` (rows of keys_of_many()),
        removed ones left out: (row, article id) pairs, and which rows have a key of more than
        `limit` articles (newest() takes only the newest of those: such a row is not answered
        here). All rows in one sorted search."""
        rows = len(keys)
        flat = keys.ravel()
        low, high = search_bounds(self._keys, flat, flat)
        sizes = high - low
        crowded = np.zeros(rows, dtype=bool)
        if rows:
            crowded = np.asarray((sizes > limit).reshape(rows, -1).any(axis=1))
        owners = np.repeat(np.repeat(np.arange(rows, dtype=np.int64), self.bands), sizes)
        ids = self._ids[run_positions(low, sizes)].astype(np.int64)
        if self._removed:
            kept = ~np.isin(ids, np.fromiter(self._removed, dtype=np.int64, count=len(self._removed)))
            owners, ids = owners[kept], ids[kept]
        return owners, ids, crowded

    def pending_matching(self, keys: np.ndarray) -> list[int]:
        """The pending articles sharing one of these keys, removed ones included."""
        found: list[int] = []
        if self._pending:
            pending, more = self._pending, self._pending_more
            for key in keys.tolist():
                if (article_id := pending.get(key)) is not None:
                    found.append(article_id)
                    if more:
                        found.extend(more.get(key, ()))
        return found

    def query(self, values: np.ndarray) -> set[int]:
        """Articles sharing at least one band key with these values."""
        found = set(self._matching(values, None).tolist())
        return found - self._removed if self._removed else found

    def newest(self, values: np.ndarray, limit: int) -> np.ndarray:
        """The `limit` newest (highest ids) of query(values), ascending: a bucket of thousands of
        near-identical entries costs its size in numpy, not in Python objects."""
        ids = self._matching(values, limit + len(self._removed))
        if not self._removed:
            return ids[-limit:]
        kept: list[int] = []  # removed articles are the oldest: the walk from the end is short
        for article_id in reversed(ids.tolist()):
            if article_id not in self._removed:
                kept.append(article_id)
                if len(kept) == limit:
                    break
        return np.array(kept[::-1], dtype=np.int64)

    def _matching(self, values: np.ndarray, limit: int | None) -> np.ndarray:
        """Unique ids (ascending) of the articles sharing a band key, removed ones included; with
        `limit`, at most the newest `limit` of each key (a key's ids are stored ascending)."""
        # Sorted, each binary search starts where the last ended: fewer reads of a large array.
        keys = np.sort(self.keys(values))
        parts = []
        if len(self._keys):
            low, hit = find_sorted(self._keys, keys)
            if hit.any():  # every matching position at once: starts repeated over run lengths
                low = low[hit]
                high = np.searchsorted(self._keys, keys[hit], side="right")
                if limit is not None:
                    low = np.maximum(low, high - limit)
                parts.append(self._ids[run_positions(low, high - low)])
        if self._pending:
            # The query's keys looked up one by one: `pending.keys() & keys` copies every pending key.
            pending: list[int] = []
            for key in keys.tolist():
                if (article_id := self._pending.get(key)) is not None:
                    pending.append(article_id)
                    pending.extend(self._pending_more.get(key, ()))
            parts.append(np.array(pending, dtype=np.int32))
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return sorted_unique(np.concatenate(parts)).astype(np.int64)

    def _flatten(self) -> tuple[np.ndarray, np.ndarray]:
        """The pending keys and their articles as arrays."""
        keys = list(self._pending)
        ids = list(self._pending.values())
        for key, more in self._pending_more.items():
            keys.extend([key] * len(more))
            ids.extend(more)
        return np.array(keys, dtype=np.uint32), np.array(ids, dtype=np.int32)

    def _merge(self, purge: bool, more: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Pending keys into the sorted arrays (sorted apart, then inserted in one pass), and `more`
        (article ids and their keys, as pending after those); with `purge`, removed articles' keys
        out of them."""
        keys, ids = self._flatten()
        if more is not None:
            keys, ids = np.concatenate((keys, more[1].ravel())), np.concatenate((ids, more[0]))
        if len(keys):
            order = np.argsort(keys, kind="stable")
            keys, ids = keys[order], ids[order]
            at = np.searchsorted(self._keys, keys, side="right")
            self._keys, self._ids = np.insert(self._keys, at, keys), np.insert(self._ids, at, ids)
        self._pending.clear()
        self._pending_more.clear()
        self._pending_keys = 0
        if purge and self._removed:
            gone = np.fromiter(self._removed, dtype=np.int32, count=len(self._removed))
            keep = ~np.isin(self._ids, gone)
            self._keys, self._ids = self._keys[keep], self._ids[keep]
            self._removed.clear()


def rows_sharing(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The indexes of the rows (of band keys, uint32) holding any of `keys`. The keys' low 16 bits
    mark a table that every row's keys are looked up in at once; the few rows it lets through are
    checked exactly. 0.26 ms for 300 rows of 64 keys against np.isin's 1.6 ms (which sorts them all)."""
    if not len(keys) or not len(rows):
        return np.zeros(0, dtype=np.int64)
    low = np.zeros(1 << 16, dtype=bool)
    low[keys.astype(np.uint16)] = True
    maybe = np.flatnonzero(low[rows.astype(np.uint16)].any(axis=1))
    found = rows[maybe]
    held = find_sorted(np.sort(keys), found.ravel())[1].reshape(found.shape)
    return maybe[held.any(axis=1)]


def _distinct_rows(keys: np.ndarray) -> bool:
    """Whether no row repeats a key (insert() counts a repeated key once)."""
    ordered = np.sort(keys, axis=1)
    return not (ordered[:, 1:] == ordered[:, :-1]).any()


def _finish_mix(mixed: np.ndarray, term: np.ndarray) -> None:
    """Bands' summed products (their last axis the bands) into their mixes, in place; `term` is
    scratch room of their shape."""
    # Each band salted apart: equal values in two different bands are no match.
    mixed += _SALT[: mixed.shape[-1]]
    # A multiply after the sum, so a key (the high bits) depends on every bit of every value.
    mixed ^= np.right_shift(mixed, np.uint64(29), out=term)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
