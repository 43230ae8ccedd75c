"""The Store: one SQLite file holding feeds, articles, fingerprints, clusters, matches, alerts, runs.

Store owns the connection; small query classes share it, one per part of the schema:
`store.feeds`, `store.articles`, `store.clusters`, `store.outbox`, `store.review`. They only read
and write what they are told: policy (backoff, which cluster survives a merge, what an alert
says) lives in the packages that decide it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import sqlite_utils

from wirewatch.store.articles import ArticleQueries
from wirewatch.store.clusters import ClusterQueries
from wirewatch.store.feeds import FeedQueries
from wirewatch.store.outbox import OutboxQueries
from wirewatch.store.queries import atomic
from wirewatch.store.review import ReviewQueries
from wirewatch.store.schema import migrate

# Another process holding the write lock (an overlapping run) is waited for, not failed.
BUSY_TIMEOUT_MS = 30_000


def open_store(path: str | Path) -> Store:
    """Open (creating or upgrading) the database at `path`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # In WAL mode NORMAL loses no committed transaction when the process dies (kill -9), only
    # possibly the last ones on power loss; FULL would fsync every commit.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return Store(db)


class Store:
    """The open database: its query classes, one transaction for all of them, and closing it."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.feeds = FeedQueries(db)
        self.articles = ArticleQueries(db)
        self.clusters = ClusterQueries(db)
        self.outbox = OutboxQueries(db)
        self.review = ReviewQueries(db)

    def atomic(self) -> AbstractContextManager[None]:
        """One write transaction (BEGIN IMMEDIATE) around whatever the query classes do in it;
        nested use is a savepoint (queries.atomic)."""
        return atomic(self.db)

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """Changes when another connection has committed since this one last asked (SQLite's
        PRAGMA data_version); this connection's own commits leave it as it was."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def count(self, table: str, where: str = "") -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table} {where}").fetchone()[0])
