"""Which story cluster survives when an article shows several clusters are one story."""

from __future__ import annotations

from collections.abc import Iterable


def surviving_cluster(clusters: Iterable[int]) -> int:
    """The cluster the others are merged into: the oldest (lowest id), so the story keeps the id
    its first alert, links and exports gave it. Raises ValueError for no clusters."""
    found = list(clusters)
    if not found:
        raise ValueError("no clusters to merge")
    return min(found)
