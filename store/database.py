"""The Store: one SQLite file holding feeds, articles, fingerprints, clusters, matches, alerts, runs.

Store owns the connection; small query classes share it, one per part of the schema:
`store.feeds`, `store.articles`, `store.clusters`, `store.outbox`, `store.review`. They only read
and write what they are told: policy (backoff, which cluster survives a merge, what an alert
says) lives in the packages that decide it.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

import sqlite_utils

from wirewatch.store.articles import ArticleQueries
from wirewatch.store.clusters import ClusterQueries
from wirewatch.store.feeds import FeedQueries
from wirewatch.store.links import LinkQueries
from wirewatch.store.outbox import OutboxQueries
from wirewatch.store.queries import atomic
from wirewatch.store.review import ReviewQueries
from wirewatch.store.schema import migrate

# Another process holding the write lock (an overlapping run) is waited for, not failed.
BUSY_TIMEOUT_MS = 30_000
# SQLite's page cache per connection, in KiB (its default is 2,000). Placing an article touches
# pages all over the store: the URL and anchor indexes, the full-text index, the rows of the
# stories it joins. With 2 MB most of those came from the OS at each statement; with 64 MB,
# 25,000 synthetic articles took 25% less time in SQL (1.49 -> 1.11 ms an article). SQLite takes
# the memory only as pages are read: a command reading a few rows uses little of it.
CACHE_KIB = 65_536


def open_store(path: str | Path) -> Store:
    """Open (creating or upgrading) the database at `path`. Its folder must exist: a typo in a
    path would otherwise put the store somewhere nobody looks. A path that cannot be used raises
    sqlite3.OperationalError (what SQLite itself raises) with database_problem's one line."""
    problem = database_problem(path)
    if problem:
        raise sqlite3.OperationalError(problem)
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # In WAL mode NORMAL loses no committed transaction when the process dies (kill -9), only
    # possibly the last ones on power loss; FULL would fsync every commit.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    migrate(db)
    return Store(db)


def database_problem(path: str | Path) -> str | None:
    """Why the database at `path` cannot be opened for writing, in one line naming the culprit
    (the file or its folder); None when it can. Every command writes (the schema is upgraded on
    open, WAL keeps its -wal and -shm files beside the database), so read-only is refused too."""
    path = Path(path)
    folder = path.parent
    shown = Path.cwd() if folder == Path(".") else folder  # "folder . is read-only" says little
    if path.is_dir():
        return f"{path}: is a folder, not a database file"
    if path.exists() and not path.is_file():
        return f"{path}: not a regular file"
    if not folder.is_dir():
        missing = "is not a folder" if folder.exists() else "does not exist"
        return f"{path}: the database folder {shown} {missing} (create it, or choose another path)"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"{path}: the database file is read-only"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{path}: the database folder {shown} is read-only (SQLite writes its journal there)"
    return None


class Store:
    """The open database: its query classes, one transaction for all of them, and closing it."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.feeds = FeedQueries(db)
        self.articles = ArticleQueries(db)
        self.clusters = ClusterQueries(db)
        self.outbox = OutboxQueries(db)
        self.review = ReviewQueries(db)
        self.links = LinkQueries(db)

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
