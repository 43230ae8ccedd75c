"""How many of a story's articles use a term, for every (term, story) pair, in sorted arrays.

The story index asks two things of its terms: how many stories use a term (a name in most
stories says little about which one an article tells), and which stories use a title word and how
often (a headline's candidate stories and their IDF weights). A dict of Counters answers both at
about 100 bytes a pair; here a pair is one 64-bit key (term << 32 | story) and one 32-bit count
in sorted arrays (12 bytes), with new pairs waiting in a small dict until they are merged in one
pass, as dedup.band_index does with LSH keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import repeat

import numpy as np

from wirewatch.dedup.runs import find_sorted, run_positions, run_sums, search_bounds

# New pairs are merged into the sorted arrays at this many, or at 1/256 of the arrays (a merge
# moves the arrays once: its cost per pair stays flat as they grow, the dict stays small).
MERGE_PAIRS = 1 << 10
# The story code of None (articles indexed before they had a cluster).
_NONE = 0xFFFFFFFF
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def story_code(story: int | None) -> int:
    if story is None:
        return _NONE
    if not 0 <= story < _NONE:
        raise ValueError(f"cluster id {story} is outside the story index's 32-bit range")
    return story


def story_of(code: int) -> int | None:
    return None if code == _NONE else code


class PairCounts:
    """Counts of (term, story) pairs: the terms are uint32 hashes, the stories cluster ids."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)  # sorted, unique
        self._counts = np.empty(0, dtype=np.int32)  # 0: a pair no longer used (purged later)
        self._pending: dict[int, dict[int, int]] = {}  # term -> story code -> count
        self._pending_pairs = 0
        self._zeros = 0
        # While a chunk is placed (watch()): term -> change of its story count since, so counts
        # read at the chunk's start stay exact without another search (StoryIndex.open_chunk).
        self.changes: dict[int, int] | None = None

    def watch(self) -> None:
        """Start recording each term's change of story count (`changes`), from nothing."""
        self.changes = {}

    def unwatch(self) -> None:
        self.changes = None

    @classmethod
    def of_pairs(cls, terms: np.ndarray, stories: np.ndarray) -> PairCounts:
        """Counts of every (terms[k], stories[k]) (stories as codes): a run's start, in one sort."""
        built = cls()
        keys = (terms.astype(np.uint64) << _SHIFT) | stories.astype(np.uint64)
        built._keys, counts = np.unique(keys, return_counts=True)
        built._counts = counts.astype(np.int32)
        return built

    def add(self, terms: np.ndarray, story: int | None, counts: np.ndarray | int = 1) -> None:
        """Count `counts` more uses of each term (unique uint32 values) by the story."""
        self._add_keys(_keys_of(terms, story_code(story)), counts)

    def remove(self, terms: np.ndarray, story: int | None, counts: np.ndarray | int = 1) -> None:
        """Count `counts` fewer uses (each pair was added before)."""
        self._remove_keys(_keys_of(terms, story_code(story)), counts)

    def add_pairs(self, terms: np.ndarray, codes: np.ndarray) -> None:
        """add() of one use of each (terms[k], codes[k]) pair (story codes; a pair may repeat): many
        articles' terms in one search, counted as adding them one by one counts them."""
        if len(terms):
            self._add_keys(*np.unique(_keys_of(terms, codes), return_counts=True))

    def remove_pairs(self, terms: np.ndarray, codes: np.ndarray) -> None:
        """remove() of one use of each (terms[k], codes[k]) pair (each added before; a pair may repeat)."""
        if len(terms):
            self._remove_keys(*np.unique(_keys_of(terms, codes), return_counts=True))

    def _located(
        self, keys: np.ndarray, uses: np.ndarray | int
    ) -> tuple[np.ndarray | int, np.ndarray, np.ndarray]:
        """`uses` as one per key (or one int for all), and where the keys are stored (at, hit)."""
        if not isinstance(uses, int):
            uses = np.broadcast_to(np.asarray(uses, dtype=np.int32), keys.shape)
        at, hit = find_sorted(self._keys, keys)
        return uses, at, hit

    def _add_keys(self, keys: np.ndarray, uses: np.ndarray | int) -> None:
        """`uses` more of each pair (unique keys)."""
        uses, at, hit = self._located(keys, uses)
        changes = self.changes
        if hit.any():
            at = at[hit]
            unused = self._counts[at] == 0
            if unused.any():
                self._zeros -= int(np.count_nonzero(unused))
                if changes is not None:
                    for term in (self._keys[at[unused]] >> _SHIFT).tolist():
                        changes[term] = changes.get(term, 0) + 1
            self._counts[at] += uses if isinstance(uses, int) else uses[hit]
        pending = self._pending
        for key, count in _missing(keys, hit, uses):
            term, code = key >> 32, key & _NONE
            stories = pending.get(term)
            if stories is not None and code in stories:
                stories[code] += count
                continue
            if stories is None:
                pending[term] = {code: count}
            else:
                stories[code] = count
            self._pending_pairs += 1
            if changes is not None:
                changes[term] = changes.get(term, 0) + 1
        if self._pending_pairs >= max(MERGE_PAIRS, len(self._keys) >> 8):
            self._merge()

    def _remove_keys(self, keys: np.ndarray, uses: np.ndarray | int) -> None:
        """`uses` fewer of each pair (unique keys, each added before)."""
        uses, at, hit = self._located(keys, uses)
        changes = self.changes
        if hit.any():
            at = at[hit]
            before = self._counts[at]
            after = np.maximum(before - (uses if isinstance(uses, int) else uses[hit]), 0)
            self._counts[at] = after
            self._zeros += int(np.count_nonzero(after == 0))
            if changes is not None:
                for term in (self._keys[at[(after == 0) & (before > 0)]] >> _SHIFT).tolist():
                    changes[term] = changes.get(term, 0) - 1
        for key, count in _missing(keys, hit, uses):
            term, code = key >> 32, key & _NONE
            stories = self._pending.get(term)
            if stories is None or code not in stories:
                continue
            stories[code] -= count
            if stories[code] <= 0:
                del stories[code]
                self._pending_pairs -= 1
                if changes is not None:
                    changes[term] = changes.get(term, 0) - 1
                if not stories:
                    del self._pending[term]
        if self._zeros >= max(MERGE_PAIRS, len(self._keys) // 4):
            self._merge()

    def story_counts(self, terms: np.ndarray) -> np.ndarray:
        """How many stories use each term."""
        return self._per_term(terms, lambda counts: counts > 0, len)

    def total_counts(self, terms: np.ndarray) -> np.ndarray:
        """Each term's uses summed over its stories."""
        return self._per_term(terms, lambda counts: counts, lambda p: sum(p.values()))

    def _per_term(
        self,
        terms: np.ndarray,
        of_counts: Callable[[np.ndarray], np.ndarray],
        of_pending: Callable[[dict[int, int]], int],
    ) -> np.ndarray:
        """of_counts() of each term's pair counts in the arrays, summed, plus of_pending() of its
        pending ones: all ranges gathered at once, summed by running totals."""
        lo, hi = self._ranges(terms)
        sizes = hi - lo
        out = run_sums(of_counts(self._counts[run_positions(lo, sizes)]), sizes)
        if self._pending:
            for k, term in enumerate(terms.tolist()):
                if pending := self._pending.get(term):
                    out[k] += of_pending(pending)
        return out

    def stories(self, term: int) -> dict[int | None, int]:
        """The stories using a term, with their uses."""
        lo, hi = self._ranges(np.array([term], dtype=np.uint32))
        a, b = int(lo[0]), int(hi[0])
        counts = self._counts[a:b]
        used = counts > 0
        found = {
            story_of(code): count
            for code, count in zip(
                (self._keys[a:b][used] & _LOW).tolist(), counts[used].tolist(), strict=True
            )
        }
        for code, count in self._pending.get(term, {}).items():
            found[story_of(code)] = found.get(story_of(code), 0) + count
        return found

    def _ranges(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each term's pairs start and end in the arrays."""
        first = terms.astype(np.uint64) << _SHIFT
        return search_bounds(self._keys, first, first | _LOW)

    def _merge(self) -> None:
        """Pending pairs into the arrays (pairs not in them: no key is duplicated), sorted apart and
        inserted in one pass; unused pairs out once they are a quarter of the arrays."""
        if self._zeros >= max(MERGE_PAIRS, len(self._keys) // 4):
            keep = self._counts > 0
            self._keys, self._counts, self._zeros = self._keys[keep], self._counts[keep], 0
        terms, codes, counts = [], [], []
        for term, stories in self._pending.items():
            for code, count in stories.items():
                terms.append(term)
                codes.append(code)
                counts.append(count)
        if terms:
            keys = (np.array(terms, dtype=np.uint64) << _SHIFT) | np.array(codes, dtype=np.uint64)
            order = np.argsort(keys)
            keys, added = keys[order], np.array(counts, dtype=np.int32)[order]
            at = np.searchsorted(self._keys, keys)
            self._keys, self._counts = np.insert(self._keys, at, keys), np.insert(self._counts, at, added)
        self._pending.clear()
        self._pending_pairs = 0


def _keys_of(terms: np.ndarray, codes: np.ndarray | int) -> np.ndarray:
    """The pairs' keys: term << 32 | story code."""
    return (terms.astype(np.uint64) << _SHIFT) | (
        np.uint64(codes) if isinstance(codes, int) else codes.astype(np.uint64)
    )


def _missing(keys: np.ndarray, hit: np.ndarray, uses: np.ndarray | int) -> Iterator[tuple[int, int]]:
    """(key, uses) of the pairs not in the arrays."""
    missing = ~hit
    if isinstance(uses, int):
        return zip(keys[missing].tolist(), repeat(uses))
    return zip(keys[missing].tolist(), uses[missing].tolist(), strict=True)
