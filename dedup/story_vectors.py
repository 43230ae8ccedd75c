"""Each story's embedding centroid, in one matrix: the stories nearest an article in meaning.

LSH and shared title words find the stories an article shares words with; a headline of the same
event may share none ("iPhone maker" / "Apple"). One matrix product over the window's stories
finds those too.
"""

from __future__ import annotations

import numpy as np

from wirewatch.dedup.embedding import DIMENSIONS


class StoryVectors:
    """Summed member embeddings per story, a row each in a growing matrix."""

    def __init__(self) -> None:
        self._sums = np.zeros((64, DIMENSIONS), dtype=np.float32)
        self._counts = np.zeros(64, dtype=np.int32)
        self._row: dict[int | None, int] = {}
        self._story: list[int | None] = []
        self._free: list[int] = []

    def add(self, story: int | None, vector: np.ndarray) -> None:
        row = self._row.get(story)
        if row is None:
            row = self._new_row(story)
        self._sums[row] += vector
        self._counts[row] += 1

    def add_many(self, stories: list[int | None], vectors: np.ndarray) -> None:
        """add() of each (story, vector) pair, in that order: each story's vectors summed in the
        order given, as add() one by one would (np.add.at is 10x slower)."""
        rows = np.array(
            [self._row[s] if s in self._row else self._new_row(s) for s in stories], dtype=np.int64
        )
        if not len(rows):
            return
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        targets = ordered[starts]
        self._sums[targets] += np.add.reduceat(vectors[order].astype(np.float32), starts, axis=0)
        self._counts[targets] += np.diff(np.append(starts, len(ordered))).astype(np.int32)

    def remove(self, story: int | None, vector: np.ndarray) -> None:
        row = self._row.get(story)
        if row is None:
            return
        self._sums[row] -= vector
        self._counts[row] -= 1
        if self._counts[row] <= 0:
            self._drop(story)

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
