"""The Store: one SQLite file holding feeds, articles, fingerprints, clusters, matches, alerts, runs."""

from __future__ import annotations

import json
from dataclasses import astuple
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from wirewatch.store.base import StoreBase
from wirewatch.store.explain import ExplainMixin
from wirewatch.store.outbox import OutboxMixin
from wirewatch.store.review import ReviewMixin
from wirewatch.store.schema import migrate
from wirewatch.store.search import SearchMixin

from wirewatch.records import (
    FeedOutcome,
    FeedState,
    NewArticle,
    Placement,
    StoredArticle,
    StoredCluster,
    StoredFingerprint,
    StoredWindow,
)
from wirewatch.timeutil import to_iso, utc_now

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


class Store(ExplainMixin, OutboxMixin, SearchMixin, ReviewMixin, StoreBase):
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

    # --- feeds ----------------------------------------------------------------------------

    def feed_states(self, feeds: list[tuple[str, str]]) -> dict[str, FeedState]:
        """State of each (url, name) feed, registering new ones, in one transaction."""
        with self.atomic():
            self.db.conn.executemany("INSERT OR IGNORE INTO feeds (url, name) VALUES (?, ?)", feeds)
        rows = self._rows_in("SELECT * FROM feeds WHERE url IN ({marks})", [url for url, _ in feeds])
        return {row["url"]: FeedState(**row) for row in rows}

    def list_feeds(self) -> list[FeedState]:
        return [FeedState(**row) for row in self._rows("SELECT * FROM feeds ORDER BY name")]

    def record_feed_outcomes(self, outcomes: list[FeedOutcome]) -> None:
        """Record a run's fetch results for many feeds in one transaction."""
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

    # --- articles -------------------------------------------------------------------------

    def known_urls(self, urls: list[str]) -> set[str]:
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

    def upgrade_feed_only(self, article: NewArticle, fetched: datetime) -> int | None:
        """Give a feed-only article its page's text; None when the stored one has its page already."""
        rows = self._rows("SELECT id FROM articles WHERE url = ? AND from_feed_only = 1", (article.url,))
        if not rows:
            return None
        self.db.table("articles").update(
            rows[0]["id"],
            {
                "title": article.title,
                "text": article.text,
                "author": article.author,
                "sitename": article.sitename,
                "fetched": to_iso(fetched),
                "from_feed_only": 0,
                "page_error": None,
            },
        )
        return int(rows[0]["id"])

    def replace_fingerprint(self, fingerprint: StoredFingerprint) -> None:
        self.db.execute("DELETE FROM fingerprints WHERE article_id = ?", (fingerprint.article_id,))
        self.save_fingerprint(fingerprint)

    def article_placement(self, article_id: int) -> tuple[int, Placement]:
        row = self._rows(
            """SELECT cluster_id, tier, matched_article_id, match_score, match_basis FROM articles
               WHERE id = ?""",
            (article_id,),
        )[0]
        placement = Placement(
            row["matched_article_id"],
            row["tier"] or "original",
            row["match_score"] or 0.0,
            basis=row["match_basis"] or "",
        )
        return self.live_cluster(row["cluster_id"]), placement

    def insert_article(self, article: NewArticle, fetched: datetime) -> int | None:
        """Insert an article; None when its URL is already stored (a run is idempotent)."""
        if self.known_urls([article.url]):
            return None
        new_id = self._insert(
            "articles",
            {
                "url": article.url,
                "source": article.source,
                "feed_url": article.feed_url,
                "title": article.title,
                "author": article.author,
                "sitename": article.sitename,
                "published": to_iso(article.published),
                "fetched": to_iso(fetched),
                "text": article.text,
                "from_feed_only": int(article.from_feed_only),
                "page_attempts": int(article.from_feed_only),
                "page_error": article.page_error,
            },
        )
        return new_id

    def source_paragraph_counts(self, source: str, keys: list[str]) -> dict[str, int]:
        sql = "SELECT key, pages FROM source_paragraphs WHERE source = ? AND key IN ({marks})"
        return {r["key"]: r["pages"] for r in self._rows_in(sql, keys, before=(source,))}

    def count_source_paragraphs(self, source: str, keys: tuple[str, ...]) -> None:
        self.db.conn.executemany(
            """INSERT INTO source_paragraphs (source, key, pages) VALUES (?, ?, 1)
               ON CONFLICT (source, key) DO UPDATE SET pages = pages + 1""",
            [(source, key) for key in keys],
        )

    def save_fingerprint(self, fingerprint: StoredFingerprint) -> None:
        self.db.execute(
            """INSERT INTO fingerprints
                 (article_id, seen, arrived, shingle_hash, lsh_hash, salient_hashes, word_hashes,
                  title_hashes, embedding)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            astuple(fingerprint),
        )

    def recent_fingerprints(self, window_seconds: float) -> StoredWindow:
        """Fingerprints of the articles stored within `window_seconds` of the latest, oldest first,
        each with its article's cluster, as columns."""
        rows = self.db.execute(
            """SELECT f.article_id, a.cluster_id, f.seen, f.arrived, f.shingle_hash, f.lsh_hash,
                      f.salient_hashes, f.word_hashes, f.title_hashes, f.embedding
               FROM fingerprints f JOIN articles a ON a.id = f.article_id
               WHERE f.arrived >= (SELECT MAX(arrived) FROM fingerprints) - ?
               ORDER BY f.arrived, f.article_id""",
            (window_seconds,),
        ).fetchall()
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(10)]
        return StoredWindow(*columns)

    def articles_without_fingerprint(self, limit: int) -> list[tuple[int, str, str, str | None, str]]:
        """(id, title, text, published, fetched) of up to `limit` articles without a fingerprint."""
        # Only a schema upgrade leaves articles without one (it drops them all, and they are
        # computed again in id order), so any is newer than the newest fingerprinted article: two
        # lookups by key spare every run's start the anti-join over the whole store (115 ms at
        # 30,000 articles, growing with it), and the counts of both tables (which grow too).
        newer = """SELECT EXISTS (SELECT 1 FROM articles
                     WHERE id > (SELECT COALESCE(MAX(article_id), 0) FROM fingerprints))"""
        if not self.db.execute(newer).fetchone()[0]:
            return []
        return self.db.execute(
            """SELECT id, title, text, published, fetched FROM articles
               WHERE id NOT IN (SELECT article_id FROM fingerprints) ORDER BY id LIMIT ?""",
            (limit,),
        ).fetchall()

    def fingerprint_times(self, article_id: int) -> tuple[float, float] | None:
        """(seen, arrived) of a stored fingerprint."""
        row = self.db.execute(
            "SELECT seen, arrived FROM fingerprints WHERE article_id = ?", (article_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def list_articles(self, cluster_id: int | None = None) -> list[StoredArticle]:
        where, params = ("WHERE cluster_id = ?", (cluster_id,)) if cluster_id is not None else ("", ())
        rows = self._rows(
            f"""SELECT id, url, title, source, published, cluster_id, tier, text, from_feed_only
                FROM articles {where} ORDER BY COALESCE(published, fetched), id""",
            params,
        )
        return [StoredArticle(**{**r, "from_feed_only": bool(r["from_feed_only"])}) for r in rows]

    # --- clusters -------------------------------------------------------------------------

    def live_cluster(self, cluster_id: int) -> int:
        """Follow merges to the cluster that holds a merged cluster's articles now."""
        while True:
            row = self._rows("SELECT merged_into FROM clusters WHERE id = ?", (cluster_id,))
            if not row or row[0]["merged_into"] is None:
                return cluster_id
            cluster_id = row[0]["merged_into"]

    def place_article(self, article_id: int, seen: str, placement: Placement) -> tuple[int, bool]:
        """Apply dedup's decision: the article joins `placement.story` (the clusters of
        `placement.merges` merged into it) or starts a new cluster.

        `seen` is the article's date (or fetch time). Returns the cluster id and whether it is new;
        a new cluster's headline is the article's title until the cluster grows.
        """
        now = utc_now().isoformat()  # UTC, whole seconds: the stored format (timeutil.to_iso)
        if placement.story is None:
            target, is_new = self._new_cluster(article_id, seen, now), True
        else:
            target, is_new = self.live_cluster(placement.story), False
            for other in sorted({self.live_cluster(m) for m in placement.merges} - {target}):
                self._merge_cluster(other, target, article_id, now)
            self.db.execute(
                """UPDATE clusters SET first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?)
                   WHERE id = ?""",
                (seen, seen, target),
            )
        self.db.execute(
            """UPDATE articles SET cluster_id = ?, tier = ?, matched_article_id = ?, match_score = ?,
                 match_basis = ?, match_scores = ? WHERE id = ?""",
            (
                target,
                placement.tier,
                placement.matched_article_id,
                placement.score,
                placement.basis,
                json.dumps(dict(placement.scores)) if placement.scores else None,
                article_id,
            ),
        )
        return target, is_new

    def _new_cluster(self, article_id: int, seen: str, now: str) -> int:
        cursor = self.db.execute(
            """INSERT INTO clusters (headline, first_seen, last_seen, created)
               SELECT title, ?, ?, ? FROM articles WHERE id = ?""",
            (seen, seen, now, article_id),
        )
        return int(cursor.lastrowid or 0)

    def cluster_titles(self, cluster_id: int, limit: int) -> list[str]:
        """The `limit` most recent member titles, oldest first."""
        rows = self._rows(
            """SELECT title FROM articles WHERE cluster_id = ?
               ORDER BY COALESCE(published, fetched) DESC, id DESC LIMIT ?""",
            (cluster_id, limit),
        )
        return [r["title"] for r in reversed(rows)]

    def set_headline(self, cluster_id: int, headline: str) -> None:
        self.db.execute("UPDATE clusters SET headline = ? WHERE id = ?", (headline, cluster_id))

    def _merge_cluster(self, source: int, target: int, article_id: int, now: str) -> None:
        self.db.execute("UPDATE articles SET cluster_id = ? WHERE cluster_id = ?", (target, source))
        self.db.execute("UPDATE topic_matches SET cluster_id = ? WHERE cluster_id = ?", (target, source))
        self.db.execute("UPDATE alerts SET cluster_id = ? WHERE cluster_id = ?", (target, source))
        self.db.execute(
            """UPDATE clusters SET
                 first_seen = MIN(first_seen, (SELECT first_seen FROM clusters WHERE id = ?)),
                 last_seen = MAX(last_seen, (SELECT last_seen FROM clusters WHERE id = ?))
               WHERE id = ?""",
            (source, source, target),
        )
        self.db.table("clusters").update(source, {"merged_into": target})
        self.db.table("cluster_merges").insert(
            {
                "from_cluster": source,
                "into_cluster": target,
                "article_id": article_id,
                "merged_at": now,
            }
        )

    def list_clusters(
        self, topic: str | None = None, article_ids: set[int] | None = None
    ) -> list[StoredCluster]:
        """Live clusters, newest first; only those matching `topic` or holding `article_ids`."""
        sql = "SELECT * FROM clusters WHERE merged_into IS NULL"
        params: list[Any] = []
        if topic:
            sql += " AND id IN (SELECT cluster_id FROM topic_matches WHERE topic = ?)"
            params.append(topic)
        if article_ids is not None:
            ids = sorted(article_ids)
            sql += f" AND id IN (SELECT cluster_id FROM articles WHERE id IN ({','.join('?' * len(ids))}))"
            params.extend(ids)
        clusters = []
        for row in self._rows(sql + " ORDER BY last_seen DESC, id DESC", params):
            articles = tuple(self.list_articles(row["id"]))
            topics = tuple(
                r["topic"]
                for r in self._rows(
                    "SELECT DISTINCT topic FROM topic_matches WHERE cluster_id = ? ORDER BY topic",
                    (row["id"],),
                )
            )
            clusters.append(
                StoredCluster(
                    id=row["id"],
                    headline=row["headline"],
                    first_seen=row["first_seen"],
                    last_seen=row["last_seen"],
                    sources_count=len({a.source for a in articles}),
                    topics=topics,
                    articles=articles,
                )
            )
        return clusters

    def count(self, table: str, where: str = "") -> int:
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table} {where}").fetchone()[0])
