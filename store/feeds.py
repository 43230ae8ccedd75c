"""Feeds, the URLs a run fetches, and the record of runs."""

from __future__ import annotations

import json
from typing import Any

from wirewatch.records import FeedOutcome, FeedState
from wirewatch.store.queries import Queries
from wirewatch.timeutil import to_iso, utc_now


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
        # BEGIN IMMEDIATE (self.atomic), not a deferred transaction: this one reads before it
        # writes, and a write by an overlapping run in between failed it with "database is locked".
        with self.atomic():
            new_id = self._insert("runs", {"kind": kind, "started": to_iso(utc_now()), "status": "running"})
            return new_id

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.atomic():
            self.db.table("runs").update(
                run_id,
                {"finished": to_iso(utc_now()), "status": status, "summary": json.dumps(summary)},
            )
