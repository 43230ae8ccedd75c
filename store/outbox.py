"""Topic matches and the alert outbox: alerts are queued in the article's transaction, sent later.

The store records what it is told; alerts.policy decides when a failed alert is tried again and
when it has failed for good, alerts.messages what its message says.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from wirewatch.query import SNOWBALL, cjk_index_text, cjk_query, has_cjk, stemmed_query, stemmed_text
from wirewatch.records import AlertSentence, AlertSubject, EntityHit, StoredAlert
from wirewatch.store.queries import Queries
from wirewatch.timeutil import to_iso


class OutboxQueries(Queries):
    # --- topic matches --------------------------------------------------------------------

    def matching_topics(self, article_id: int, queries: dict[str, str], language: str | None) -> list[str]:
        """Names of the topics whose FTS5 query matches this article, in any of its indexes
        (`_searches`: its stemmed index is searched with `language`'s stems)."""
        return [
            name
            for name, query in queries.items()
            if any(
                self._rows(
                    f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid = ?", (read, article_id)
                )
                for table, read, _ in _searches(query, [language] if language else [])
            )
        ]

    def matching_between(self, queries: dict[str, str], first: int, last: int) -> dict[int, list[str]]:
        """matching_topics of every article with an id from `first` to `last`, by one search per
        topic and index, not one per article and topic: the topics each matches, in `queries`'
        order (an article matching none is left out). Its stemmed index is searched with its own
        language's stems, as matching_topics does."""
        languages = [
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT language FROM articles_stem WHERE rowid BETWEEN ? AND ?", (first, last)
            )
        ]
        found: dict[int, list[str]] = {}
        for name, query in queries.items():
            ids: set[int] = set()
            for table, read, language in _searches(query, languages):
                where = f"{table} MATCH ? AND rowid BETWEEN ? AND ?" + (
                    " AND language = ?" if language else ""
                )
                params = (read, first, last, language) if language else (read, first, last)
                ids.update(
                    row[0] for row in self.db.execute(f"SELECT rowid FROM {table} WHERE {where}", params)
                )
            for article_id in sorted(ids):
                found.setdefault(article_id, []).append(name)
        return found

    def record_match(self, topic: str, article_id: int, cluster_id: int, now: datetime) -> bool:
        """Record a match; False when this article had matched this topic already."""
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO topic_matches (topic, article_id, cluster_id, matched_at)
               VALUES (?, ?, ?, ?)""",
            (topic, article_id, cluster_id, to_iso(now)),
        )
        return cursor.rowcount == 1

    def topic_has_alert(self, topic: str, cluster_id: int) -> bool:
        return bool(
            self._rows("SELECT 1 FROM alerts WHERE topic = ? AND cluster_id = ?", (topic, cluster_id))
        )

    def article_has_alert(self, topic: str, article_id: int) -> bool:
        return bool(
            self._rows("SELECT 1 FROM alerts WHERE topic = ? AND article_id = ?", (topic, article_id))
        )

    # --- watchlist hits -------------------------------------------------------------------

    def record_entity_hit(self, hit: EntityHit, article_id: int, cluster_id: int, now: datetime) -> bool:
        """Record that an article names an entity; False when it was recorded before."""
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO entity_matches
               (list_name, entity_id, name, matched, sentence, article_id, cluster_id, matched_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                hit.list_name,
                hit.entity_id,
                hit.name,
                hit.matched,
                hit.sentence,
                article_id,
                cluster_id,
                to_iso(now),
            ),
        )
        return cursor.rowcount == 1

    def entities_of_articles(self, article_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The entities each article names (list, id, name, matched), by article."""
        found: dict[int, list[dict[str, Any]]] = {}
        sql = """SELECT article_id, list_name AS list, entity_id AS id, name, matched
                 FROM entity_matches WHERE article_id IN ({marks}) ORDER BY list_name, entity_id"""
        for row in self._rows_in(sql, article_ids):
            found.setdefault(row.pop("article_id"), []).append(row)
        return found

    # --- alerts ---------------------------------------------------------------------------

    def queue(
        self,
        key: str,
        topic: str,
        mode: str,
        cluster_id: int,
        article_id: int,
        status: str,
        now: datetime,
        entity: EntityHit | None = None,
        kind: str | None = None,
        not_before: datetime | None = None,
    ) -> int | None:
        """Queue an alert unless one with the same key exists; the UNIQUE key makes doubles impossible.
        `not_before`: it is held (and may gather more) until then."""
        if self._rows("SELECT 1 FROM alerts WHERE key = ?", (key,)):
            return None
        new_id = self._insert(
            "alerts",
            {
                "key": key,
                "topic": topic,
                "mode": mode,
                "cluster_id": cluster_id,
                "article_id": article_id,
                "status": status,
                "created": to_iso(now),
                "attempts": 0,
                "entity_id": entity.entity_id if entity else None,
                "entity_name": entity.name if entity else None,
                "kind": kind,
                "next_attempt": to_iso(not_before),
            },
        )
        return new_id

    # --- developments ---------------------------------------------------------------------

    def open_development(self, topic: str, cluster_id: int) -> int | None:
        """The topic's development alert on this story that is still gathering: queued, and not
        delivered to any channel yet (once one has it, what follows is a new development)."""
        rows = self._rows(
            """SELECT id FROM alerts WHERE topic = ? AND cluster_id = ? AND kind = 'development'
                 AND status IN ('pending', 'recorded')
                 AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = alerts.id)
               ORDER BY id DESC LIMIT 1""",
            (topic, cluster_id),
        )
        return int(rows[0]["id"]) if rows else None

    def last_alert_created(self, topic: str, cluster_id: int) -> str | None:
        """When the topic's last alert on this story was created (None: it has none)."""
        row = self.db.execute(
            "SELECT MAX(created) FROM alerts WHERE topic = ? AND cluster_id = ?", (topic, cluster_id)
        ).fetchone()
        return row[0] if row else None

    def attach_sentences(self, alert_id: int, article_id: int, sentences: list[tuple[int, str]]) -> None:
        """The new sentences (position, text) of an article that a development alert carries."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO alert_sentences (alert_id, article_id, position, text) "
            "VALUES (?, ?, ?, ?)",
            [(alert_id, article_id, position, text) for position, text in sentences],
        )

    def alert_sentences(self, alert_id: int) -> list[AlertSentence]:
        return [
            AlertSentence(r["text"], int(r["article_id"]), r["source"])
            for r in self._rows(
                """SELECT s.text, s.article_id, a.source FROM alert_sentences s
                   JOIN articles a ON a.id = s.article_id
                   WHERE s.alert_id = ?
                   ORDER BY COALESCE(a.published, a.fetched), s.article_id, s.position""",
                (alert_id,),
            )
        ]

    def development_articles(self, cluster_id: int) -> set[int]:
        """The story's articles whose new sentences a development alert carries."""
        return {
            int(r[0])
            for r in self.db.execute(
                """SELECT DISTINCT s.article_id FROM alert_sentences s JOIN alerts a ON a.id = s.alert_id
                   WHERE a.cluster_id = ?""",
                (cluster_id,),
            )
        }

    def sentences_matching(self, query: str, sentences: list[str], language: str | None) -> list[int]:
        """Which of these sentences a topic's query matches, read as the article indexes read
        them (`_readings`), each in a temporary index of its own. A query that cannot be read
        against one sentence (a column filter) matches every one: the article matched it."""
        matched: set[int] = set()
        try:
            for index, tokenizer, probe_query, text_of in _readings(query, language):
                table = index.replace("articles", "sentence_probe")
                texts = [text_of(sentence) for sentence in sentences]
                self.db.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table} "
                    f"USING fts5(text, tokenize='{tokenizer}')"
                )
                self.db.execute(f"DELETE FROM temp.{table}")
                self.db.conn.executemany(
                    f"INSERT INTO temp.{table} (rowid, text) VALUES (?, ?)", list(enumerate(texts))
                )
                matched.update(
                    int(r[0])
                    for r in self.db.execute(
                        f"SELECT rowid FROM temp.{table} WHERE {table} MATCH ?", (probe_query,)
                    )
                )
        except sqlite3.OperationalError:
            return list(range(len(sentences)))
        return sorted(matched)

    def due(self, now: datetime, *, force: bool = False) -> list[StoredAlert]:
        """Pending alerts whose next attempt has come; with `force` also failed ones, at once."""
        sql = "SELECT * FROM alerts WHERE status IN ('pending', 'failed')"
        params: tuple[Any, ...] = ()
        if not force:
            sql = (
                "SELECT * FROM alerts WHERE status = 'pending'"
                " AND (next_attempt IS NULL OR next_attempt <= ?)"
            )
            params = (to_iso(now),)
        return [StoredAlert(**r) for r in self._rows(sql + " ORDER BY id", params)]

    def release_recorded(self) -> int:
        """Alerts recorded while no channel was configured become pending and due at once, so the
        next delivery sends them like any other (`wirewatch alerts --retry --all`); how many."""
        with self.atomic():
            cursor = self.db.execute(
                "UPDATE alerts SET status = 'pending', next_attempt = NULL WHERE status = 'recorded'"
            )
        return cursor.rowcount

    def listing(self) -> list[StoredAlert]:
        """Every alert, newest first."""
        return [StoredAlert(**r) for r in self._rows("SELECT * FROM alerts ORDER BY id DESC")]

    def articles(self, alert: StoredAlert) -> list[dict[str, Any]]:
        """Articles of the alert's development matching its topic, as they arrived (first = cause)."""
        if alert.entity_id is not None:  # a watchlist's: the story's articles naming the entity
            return self._rows(
                """SELECT a.id, a.url, a.source, a.title, m.matched_at
                   FROM entity_matches m JOIN articles a ON a.id = m.article_id
                   WHERE m.list_name = ? AND m.entity_id = ? AND m.cluster_id = ?
                   ORDER BY m.matched_at, a.id""",
                (alert.topic, alert.entity_id, alert.cluster_id),
            )
        if alert.kind == "development":  # the articles whose new sentences it carries
            return self._rows(
                """SELECT a.id, a.url, a.source, a.title, m.matched_at
                   FROM topic_matches m JOIN articles a ON a.id = m.article_id
                   WHERE m.topic = ? AND a.id IN (SELECT article_id FROM alert_sentences WHERE alert_id = ?)
                   ORDER BY m.matched_at, a.id""",
                (alert.topic, alert.id),
            )
        if alert.mode == "every_article" or alert.cluster_id is None:
            scope, value = "m.article_id = ?", alert.article_id
        else:
            scope, value = "m.cluster_id = ?", alert.cluster_id
        return self._rows(
            f"""SELECT a.id, a.url, a.source, a.title, m.matched_at
                FROM topic_matches m JOIN articles a ON a.id = m.article_id
                WHERE m.topic = ? AND {scope} ORDER BY m.matched_at, a.id""",
            (alert.topic, value),
        )

    def subject(self, alert: StoredAlert) -> AlertSubject:
        """The article an alert is about, with its story's headline and number of sources."""
        article = self._rows("SELECT * FROM articles WHERE id = ?", (alert.article_id,))[0]
        cluster_id = alert.cluster_id if alert.cluster_id is not None else article["cluster_id"]
        cluster = self._rows("SELECT headline FROM clusters WHERE id = ?", (cluster_id,))
        sources = self._rows(
            "SELECT COUNT(DISTINCT source) AS n FROM articles WHERE cluster_id = ?", (cluster_id,)
        )
        text = article["text"]
        if alert.entity_id is not None:  # a watchlist's alert says whom and where
            named = self._rows(
                """SELECT sentence FROM entity_matches
                   WHERE list_name = ? AND entity_id = ? AND article_id = ?""",
                (alert.topic, alert.entity_id, alert.article_id),
            )
            where = named[0]["sentence"] if named else ""
            text = f"{alert.entity_name} ({alert.topic} {alert.entity_id}) named: {where}"
        return AlertSubject(
            title=article["title"],
            source=article["source"],
            url=article["url"],
            text=text,
            headline=cluster[0]["headline"] if cluster else None,
            sources_count=int(sources[0]["n"]) if sources else 1,
            cluster_id=cluster_id,
            new_sentences=tuple(self.alert_sentences(alert.id)) if alert.kind == "development" else (),
        )

    # --- delivery -------------------------------------------------------------------------

    def delivered_channels(self, alert_id: int) -> set[str]:
        return {
            r["channel"]
            for r in self._rows("SELECT channel FROM alert_deliveries WHERE alert_id = ?", (alert_id,))
        }

    def record_delivery(self, alert_id: int, channel: str, now: datetime) -> None:
        """Remember one channel got the alert, so a retry for the others never repeats it."""
        with self.atomic():
            self.db.table("alert_deliveries").insert(
                {"alert_id": alert_id, "channel": channel, "delivered": to_iso(now)}, ignore=True
            )

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        with self.atomic():
            self.db.execute(
                """UPDATE alerts SET status = 'sent', delivered = ?, attempts = attempts + 1,
                   last_error = NULL,
                   next_attempt = NULL WHERE id = ?""",
                (to_iso(now), alert_id),
            )

    def mark_muted(self, alert_id: int) -> None:
        with self.atomic():
            self.db.execute(
                "UPDATE alerts SET status = 'muted', next_attempt = NULL WHERE id = ?", (alert_id,)
            )

    def attempts(self, alert_id: int) -> int:
        """How many times delivering the alert was tried."""
        return int(self._rows("SELECT attempts FROM alerts WHERE id = ?", (alert_id,))[0]["attempts"])

    def record_failure(
        self, alert_id: int, *, status: str, attempts: int, next_attempt: datetime, error: str
    ) -> None:
        """Record a failed attempt as alerts.policy judged it: the alert's status ('pending'
        or 'failed'), its count of attempts and when to try it next."""
        with self.atomic():
            self.db.table("alerts").update(
                alert_id,
                {
                    "status": status,
                    "attempts": attempts,
                    "last_error": error,
                    "next_attempt": to_iso(next_attempt),
                },
            )


def _searches(query: str, languages: list[str]) -> list[tuple[str, str, str | None]]:
    """The searches that find a query's articles of `languages`: (index, the query as that index
    reads it, the language its rows must have, if one). The main index (Porter); for a query with
    CJK words, the index of CJK character pairs; for each language with a Snowball stemmer, the
    index of stems, searched with that language's stems."""
    found: list[tuple[str, str, str | None]] = [("articles_fts", query, None)]
    if has_cjk(query):
        found.append(("articles_cjk", cjk_query(query), None))
    for language in languages:
        stemmed = stemmed_query(query, language) if language in SNOWBALL else None
        if stemmed:
            found.append(("articles_stem", stemmed, language))
    return found


def _readings(query: str, language: str | None) -> list[tuple[str, str, str, Callable[[str], str]]]:
    """The ways an article in `language` is searched for a query (_searches), each with its index's
    tokenizer and the text as that index holds it: (index, tokenizer, query as read, text_of)."""
    readings: list[tuple[str, str, str, Callable[[str], str]]] = []
    for table, read, stems in _searches(query, [language] if language else []):
        if table == "articles_fts":
            readings.append((table, "porter", read, str))
        elif table == "articles_cjk":
            readings.append((table, "unicode61", read, cjk_index_text))
        elif stems is not None:  # the index of stems
            readings.append((table, "unicode61", read, partial(stemmed_text, language=stems)))
    return readings
