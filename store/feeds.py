"""Feeds, the URLs a run fetches, and the record of runs."""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

from wirewatch.records import FeedOutcome, FeedState, StoredRun
from wirewatch.store.queries import Queries
from wirewatch.timeutil import to_iso, utc_now

# The lock files of the runs this process is running: path -> open descriptor. Each run holds an
# exclusive flock on a file of its own beside the database until it finishes; the kernel drops
# it when the process ends however it ends (kill -9 included), so a row still 'running' whose
# lock can be taken is a run nobody will finish. A lock, not a pid: pids are reused, and a run
# in a container is often pid 1 on a host name never seen again.
_HELD_RUN_LOCKS: dict[str, int] = {}


class FeedQueries(Queries):
    # --- feeds ----------------------------------------------------------------------------

    def states(self, feeds: list[tuple[str, str]]) -> dict[str, FeedState]:
        """State of each (url, name) feed, registering new ones, in one transaction."""
        with self.atomic():
            self.db.conn.executemany("INSERT OR IGNORE INTO feeds (url, name) VALUES (?, ?)", feeds)
        rows = self._rows_in("SELECT * FROM feeds WHERE url IN ({marks})", [url for url, _ in feeds])
        return {row["url"]: FeedState(**row) for row in rows}

    def listing(self) -> list[FeedState]:
        """Every feed's state, by name."""
        return [FeedState(**row) for row in self._rows("SELECT * FROM feeds ORDER BY name")]

    def record_outcomes(self, outcomes: list[FeedOutcome]) -> None:
        """Record a run's fetch results for many feeds in one transaction: on success the new
        validators and a cleared failure count, on failure one more failure. The next fetch is
        the one the outcome carries (fetch.schedule decides it)."""
        with self.atomic():
            for o in outcomes:
                if o.error is None:
                    # A 304 carries no new validators: COALESCE keeps the ones we have.
                    self.db.execute(
                        """UPDATE feeds SET last_status = ?, last_error = NULL, consecutive_failures = 0,
                           last_fetched = ?, next_fetch = ?, etag = COALESCE(?, etag),
                           last_modified = COALESCE(?, last_modified) WHERE url = ?""",
                        (o.status, to_iso(o.fetched), to_iso(o.next_fetch), o.etag, o.last_modified, o.url),
                    )
                else:
                    self.db.execute(
                        """UPDATE feeds SET last_status = ?, last_error = ?,
                           consecutive_failures = consecutive_failures + 1, last_fetched = ?, next_fetch = ?
                           WHERE url = ?""",
                        (o.status, o.error, to_iso(o.fetched), to_iso(o.next_fetch), o.url),
                    )

    # --- the URLs a run fetches -----------------------------------------------------------

    def known_urls(self, urls: list[str]) -> set[str]:
        """The stored articles among `urls`."""
        return {r["url"] for r in self._rows_in("SELECT url FROM articles WHERE url IN ({marks})", urls)}

    def feed_only_urls(self, urls: list[str], max_attempts: int) -> set[str]:
        """Stored articles among `urls` that still lack their page and may try it again."""
        sql = "SELECT url FROM articles WHERE url IN ({marks}) AND from_feed_only = 1 AND page_attempts < ?"
        return {r["url"] for r in self._rows_in(sql, urls, after=(max_attempts,))}

    def record_page_failure(self, url: str, error: str) -> None:
        self.db.execute(
            "UPDATE articles SET page_attempts = page_attempts + 1, page_error = ? WHERE url = ?",
            (error, url),
        )

    # --- runs -----------------------------------------------------------------------------

    def start_run(self, kind: str) -> int:
        """Record a new run, holding its lock from before its row can be seen; the runs left
        'running' by processes that died are marked 'interrupted' first."""
        # BEGIN IMMEDIATE (self.atomic), not a deferred transaction: this one reads before it
        # writes, and a write by an overlapping run in between failed it with "database is locked".
        with self.atomic():
            self.close_dead_runs()
            new_id = self._insert("runs", {"kind": kind, "started": to_iso(utc_now()), "status": "running"})
            self._hold_run_lock(new_id)
            return new_id

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.atomic():
            self.db.table("runs").update(
                run_id,
                {"finished": to_iso(utc_now()), "status": status, "summary": json.dumps(summary)},
            )
        self._release_run_lock(run_id)  # after the commit: until then the run is still running

    def runs(self, limit: int = 50) -> list[StoredRun]:
        """The latest runs, newest first; those whose process is gone shown as interrupted."""
        self.close_dead_runs()
        rows = self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [
            StoredRun(**{**r, "summary": json.loads(r["summary"]) if r["summary"] else None}) for r in rows
        ]

    def close_dead_runs(self) -> list[int]:
        """Mark 'interrupted' (ended now) every run still 'running' whose process has died; the
        ids marked. Overlapping runs that are alive keep their 'running'."""
        dead = [
            r["id"]
            for r in self._rows("SELECT id FROM runs WHERE status = 'running'")
            if not self._alive(r["id"])
        ]
        with self.atomic():
            for run_id in dead:
                self.db.execute(
                    "UPDATE runs SET status = 'interrupted', finished = ? "
                    "WHERE id = ? AND status = 'running'",
                    (to_iso(utc_now()), run_id),
                )
        for run_id in dead:
            lock = self._run_lock_path(run_id)
            if lock:
                _remove_lock_file(lock)
        return dead

    def _run_lock_path(self, run_id: int) -> str | None:
        database = self.db.execute("PRAGMA database_list").fetchone()[2]
        return f"{database}-run-{run_id}.lock" if database else None  # "" for an in-memory store

    def _hold_run_lock(self, run_id: int) -> None:
        path = self._run_lock_path(run_id)
        if path is None:
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
        _HELD_RUN_LOCKS[path] = fd

    def _release_run_lock(self, run_id: int) -> None:
        path = self._run_lock_path(run_id)
        fd = _HELD_RUN_LOCKS.pop(path, None) if path else None
        if path and fd is not None:
            _remove_lock_file(path)
            os.close(fd)

    def _alive(self, run_id: int) -> bool:
        """Whether the run's process still holds its lock. A run without a lock file (recorded
        before runs held one, or by a process that died before its row was committed) is dead."""
        path = self._run_lock_path(run_id)
        if path is None:
            return False
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell (another user's file, say): never end a run that may be alive
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # and with it the lock, when it was taken
        return False


def _remove_lock_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
