"""Each story's embedding centroid, in one matrix: the stories nearest an article in meaning.

LSH and shared title words find the stories an article shares words with; a headline of the same
event may share none ("iPhone maker" / "Apple"). One matrix product over the window's stories
finds those too.
"""

from __future__ import annotations

from collections.abc import Callable, KeysView

import numpy as np

from wirewatch.dedup.embedding import DIMENSIONS
from wirewatch.dedup.runs import sorted_unique

# Rows of vectors by their positions (an array of any shape): float32, a row of DIMENSIONS each.
Vectors = Callable[[np.ndarray], np.ndarray]


class StoryVectors:
    """Summed member embeddings per story, a row each in a growing matrix."""

    def __init__(self) -> None:
        self._sums = np.zeros((64, DIMENSIONS), dtype=np.float32)
        self._counts = np.zeros(64, dtype=np.int32)
        self._row: dict[int | None, int] = {}
        self._story: list[int | None] = []
        self._free: list[int] = []

    def stories(self) -> KeysView[int | None]:
        """The stories with a row."""
        return self._row.keys()

    def add(self, story: int | None, vector: np.ndarray) -> None:
        row = self._row.get(story)
        if row is None:
            row = self._new_row(story)
        self._sums[row] += vector
        self._counts[row] += 1

    def add_many(self, stories: list[int | None], vectors: Vectors) -> None:
        """add() of each story's vector (vectors(positions): the float32 rows of those positions in
        `stories`), a story's vectors summed in the order given (its first vector plus the pairwise
        sum of the rest, as np.add.reduceat sums: _sums_of_runs)."""
        if not stories:
            return
        # New stories take rows in the order they first appear, as add() one by one would give them.
        row_of = {s: self._row[s] if s in self._row else self._new_row(s) for s in dict.fromkeys(stories)}
        rows = np.fromiter(map(row_of.__getitem__, stories), dtype=np.int64, count=len(stories))
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        sizes = np.diff(np.append(starts, len(ordered)))
        targets = ordered[starts]
        self._sums[targets] += _sums_of_runs(vectors, order, starts, sizes)
        self._counts[targets] += sizes.astype(np.int32)

    def add_in_turn(self, stories: list[int | None], vectors: np.ndarray) -> None:
        """add() of each story's vector (a float32 row each) in the order given, bit for bit: a
        story's k-th vector is added in the k-th pass, over all stories at once."""
        rows = np.fromiter(
            (self._row[s] if s in self._row else self._new_row(s) for s in stories),
            dtype=np.int64,
            count=len(stories),
        )
        for at in _in_turn(rows):
            self._sums[rows[at]] += vectors[at]
        np.add.at(self._counts, rows, 1)

    def remove(self, story: int | None, vector: np.ndarray) -> None:
        row = self._row.get(story)
        if row is None:
            return
        self._sums[row] -= vector
        self._counts[row] -= 1
        if self._counts[row] <= 0:
            self._drop(story)

    def remove_in_turn(self, stories: list[int | None], vectors: np.ndarray) -> None:
        """remove() of each story's vector (a float32 row each) in the order given, bit for bit."""
        known = [k for k, s in enumerate(stories) if s in self._row]
        rows = np.array([self._row[stories[k]] for k in known], dtype=np.int64)
        left = self._counts[rows] - _occurrence(rows) - 1  # each row's count after each removal
        last = np.zeros(len(rows), dtype=bool)
        last[len(rows) - 1 - np.unique(rows[::-1], return_index=True)[1]] = True
        if (left[~last] <= 0).any():  # a story emptied before its last removal: as remove() does
            for story, vector in zip(stories, vectors, strict=True):
                self.remove(story, vector)
            return
        kept = vectors[known]
        for at in _in_turn(rows):
            self._sums[rows[at]] -= kept[at]
        np.subtract.at(self._counts, rows, 1)
        for k in np.flatnonzero(last & (left <= 0)).tolist():  # emptied, in the order they empty
            self._drop(stories[known[k]])

    def merge(self, source: int | None, target: int | None) -> None:
        if source == target or source not in self._row:
            return
        row = self._row[source]
        into = self._row.get(target)
        if into is None:
            into = self._new_row(target)
        self._sums[into] += self._sums[row]
        self._counts[into] += self._counts[row]
        self._drop(source)

    def cosine(self, vector: np.ndarray, story: int | None) -> float:
        row = self._row.get(story)
        if row is None:
            return 0.0
        centre = self._sums[row]
        norm = float(np.linalg.norm(centre))
        return float(centre @ vector) / norm if norm > 0 else 0.0

    def nearest(self, vector: np.ndarray, k: int) -> list[int | None]:
        """The k stories whose centroids are closest to the vector (a unit vector)."""
        if not self._row or not vector.any():
            return []
        norms = np.linalg.norm(self._sums, axis=1)
        scores = np.divide(self._sums @ vector, norms, out=np.full(len(norms), -2.0), where=norms > 0)
        top = np.argsort(-scores, kind="stable")[:k]
        return [self._story[r] for r in top.tolist() if scores[r] > -2.0]

    def _new_row(self, story: int | None) -> int:
        if self._free:
            row = self._free.pop()
        else:
            row = len(self._story)
            if row == len(self._counts):
                more = row // 4 + 16  # by a quarter: less idle capacity than doubling
                self._sums = np.vstack([self._sums, np.zeros((more, DIMENSIONS), dtype=np.float32)])
                self._counts = np.concatenate([self._counts, np.zeros(more, dtype=np.int32)])
            self._story.append(None)
        self._row[story] = row
        self._story[row] = story
        return row

    def _drop(self, story: int | None) -> None:
        row = self._row.pop(story)
        self._sums[row] = 0.0
        self._counts[row] = 0
        self._free.append(row)


def _occurrence(rows: np.ndarray) -> np.ndarray:
    """Which occurrence of its value each element of `rows` is (0 for the first)."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    firsts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(firsts, np.diff(np.append(firsts, len(rows))))
    return rank


def _in_turn(rows: np.ndarray) -> list[np.ndarray]:
    """Positions of `rows` in passes: each value's first occurrence in the first pass, its second in
    the second...: no value twice in a pass, each value's occurrences in their order."""
    rank = _occurrence(rows)
    if not len(rank):
        return []
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
    return [by_rank[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


# numpy's pairwise summation of float32 (its add reduction): rows in 8 lanes, blocks of at most 128.
_LANES = 8
_PAIRWISE_BLOCK = 128


def _sums_of_runs(vectors: Vectors, order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """np.add.reduceat(vectors(order), starts, axis=0) for runs of `sizes`, bit for bit: each run's
    first row plus numpy's pairwise sum of the others. reduceat sums each column of a run down
    rows a kilobyte apart (40 ms for a 21,000-article window); here the runs of each length are
    summed together, a row of 256 values at a time."""
    sums = vectors(order[starts])
    rest = sizes - 1
    for count in sorted_unique(rest[rest > 0]).tolist():
        runs = np.flatnonzero(rest == count)
        sums[runs] += _pairwise_sums(vectors, order, starts[runs] + 1, count)
    return sums


def _pairwise_sums(vectors: Vectors, order: np.ndarray, firsts: np.ndarray, count: int) -> np.ndarray:
    """numpy's pairwise sum (pairwise_sum in its loops_utils) of `count` rows of vectors(order)
    from each of `firsts`, in float32 as numpy adds them."""
    if count < _LANES:
        total = np.zeros((len(firsts), DIMENSIONS), dtype=np.float32)
        for k in range(count):
            total += vectors(order[firsts + k])
        return total
    if count <= _PAIRWISE_BLOCK:
        lanes = firsts[:, None] + np.arange(_LANES)
        r = vectors(order[lanes])
        done = _LANES
        while done < count - count % _LANES:
            r += vectors(order[lanes + done])
            done += _LANES
        total = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
        for k in range(done, count):
            total += vectors(order[firsts + k])
        return total
    half = count // 2 - count // 2 % _LANES
    first_half = _pairwise_sums(vectors, order, firsts, half)
    return first_half + _pairwise_sums(vectors, order, firsts + half, count - half)
