"""What the review page reads and writes: cluster summaries for listing, read / muted state, and
full-text search (the FTS5 syntax topics and `wirewatch search` share).

Muting is per story: when clusters merge, a story muted under either id stays muted, so each
muted cluster is followed along its merges (clusters.merge_chain) to the live one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wirewatch.errors import QueryError
from wirewatch.query import CJK_RUN, SNOWBALL, check_fts_query, cjk_query, has_cjk, stemmed_query
from wirewatch.records import ClusterSummary, SearchHit
from wirewatch.store.clusters import merge_chain
from wirewatch.store.queries import Queries
from wirewatch.timeutil import to_iso

# The list page shows this many clusters at most; older stories are reached by topic or search.
REVIEW_LIST_LIMIT = 500

SEARCH_LIMIT = 200

# Each muted cluster's way along merges to its live cluster (clusters.merge_chain).
_MUTED_CHAIN = merge_chain("SELECT cluster_id FROM cluster_state WHERE muted = 1")


class ReviewQueries(Queries):
    def clusters(
        self,
        topic: str | None = None,
        since: datetime | None = None,
        ids: list[int] | None = None,
        limit: int = REVIEW_LIST_LIMIT,
    ) -> list[ClusterSummary]:
        """Live clusters newest first, optionally only a topic's, those seen since a time, or `ids`."""
        where = ["c.merged_into IS NULL"]
        params: list[Any] = []
        if topic:  # a topic's stories, or a watchlist's: those naming one of its entities
            where.append(
                """c.id IN (SELECT cluster_id FROM topic_matches WHERE topic = ?
                            UNION SELECT cluster_id FROM entity_matches WHERE list_name = ?)"""
            )
            params.extend([topic, topic])
        if since is not None:
            # Stored times are UTC ISO 8601 with one offset, so text order is time order.
            where.append("c.last_seen >= ?")
            params.append(to_iso(since))
        if ids is not None:
            if not ids:
                return []
            where.append(f"c.id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        rows = self._rows(
            f"""SELECT c.id, c.headline, c.first_seen, c.last_seen,
                       (SELECT COUNT(DISTINCT a.source) FROM articles a WHERE a.cluster_id = c.id)
                           AS sources_count,
                       (SELECT COUNT(*) FROM articles a WHERE a.cluster_id = c.id) AS articles_count,
                       (SELECT group_concat(topic, char(10)) FROM (
                            SELECT DISTINCT topic FROM topic_matches m WHERE m.cluster_id = c.id
                            ORDER BY topic)) AS topics,
                       (SELECT group_concat(name, char(10)) FROM (
                            SELECT DISTINCT name FROM entity_matches e WHERE e.cluster_id = c.id
                            ORDER BY name)) AS entities,
                       COALESCE(s.read, 0) AS read
                FROM clusters c LEFT JOIN cluster_state s ON s.cluster_id = c.id
                WHERE {" AND ".join(where)}
                ORDER BY c.last_seen DESC, c.id DESC LIMIT ?""",
            [*params, limit],
        )
        muted = self._muted_live_ids()
        return [
            ClusterSummary(
                id=r["id"],
                headline=r["headline"],
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                sources_count=r["sources_count"],
                articles_count=r["articles_count"],
                topics=tuple(r["topics"].split("\n")) if r["topics"] else (),
                entities=tuple(r["entities"].split("\n")) if r["entities"] else (),
                read=bool(r["read"]),
                muted=r["id"] in muted,
            )
            for r in rows
        ]

    def cluster(self, cluster_id: int) -> ClusterSummary | None:
        """One live cluster's summary; None for an unknown or merged id (see ClusterQueries.live)."""
        found = self.clusters(ids=[cluster_id], limit=1)
        return found[0] if found else None

    def topic_names(self) -> list[str]:
        """Topics and watchlists that matched something (the review page filters by either)."""
        return [
            r["topic"]
            for r in self._rows(
                """SELECT topic FROM topic_matches UNION SELECT list_name FROM entity_matches
                   ORDER BY 1"""
            )
        ]

    def is_muted(self, cluster_id: int) -> bool:
        """Whether this story was muted, under its own id or that of a cluster merged into it."""
        return bool(self._rows(f"{_MUTED_CHAIN} SELECT 1 FROM chain WHERE id = ? LIMIT 1", (cluster_id,)))

    def set_read(self, cluster_id: int, read: bool, now: datetime) -> None:
        with self.atomic():
            self._upsert_state(cluster_id, "read", read, now)

    def set_muted(self, cluster_id: int, muted: bool, now: datetime) -> None:
        with self.atomic():
            self._upsert_state(cluster_id, "muted", muted, now)
            if not muted:
                # Unmuting the story unmutes the clusters merged into it, or it would stay muted.
                self.db.execute(
                    f"""{_MUTED_CHAIN}
                        UPDATE cluster_state SET muted = 0, updated = ?
                        WHERE cluster_id IN (SELECT start FROM chain WHERE id = ?) AND muted = 1""",
                    (to_iso(now), cluster_id),
                )

    def _upsert_state(self, cluster_id: int, column: str, value: bool, now: datetime) -> None:
        assert column in ("read", "muted")
        self.db.execute(
            f"""INSERT INTO cluster_state (cluster_id, {column}, updated) VALUES (?, ?, ?)
                ON CONFLICT (cluster_id) DO UPDATE SET {column} = excluded.{column},
                                                       updated = excluded.updated""",
            (cluster_id, int(value), to_iso(now)),
        )

    def _muted_live_ids(self) -> set[int]:
        """Live clusters whose story is muted: each muted cluster followed along its merges."""
        return {r["id"] for r in self._rows(f"{_MUTED_CHAIN} SELECT id FROM chain WHERE up IS NULL")}

    def _cjk_rows(self, query: str, limit: int) -> list[dict[str, Any]]:
        return self._side_hits("articles_cjk", cjk_query(query), None, CJK_RUN.findall(query), limit)

    def _stem_rows(self, query: str, limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for row in self._rows("SELECT DISTINCT language FROM articles_stem"):
            stemmed = stemmed_query(query, row["language"]) if row["language"] in SNOWBALL else None
            if stemmed:
                words = stemmed.replace('"', " ").split()
                rows += self._side_hits("articles_stem", stemmed, row["language"], words, limit)
        return rows

    def _side_hits(
        self, table: str, match: str, language: str | None, words: list[str], limit: int
    ) -> list[dict[str, Any]]:
        """Hits of the CJK or the stemmed index (`table`), shaped as search()'s rows, each with a
        snippet around the first of `words` found (these indexes do not hold the text as shown)."""
        where, params = (f"{table} MATCH ?", [match])
        if language is not None:
            where, params = (f"{where} AND {table}.language = ?", [match, language])
        rows = self._rows(
            f"""SELECT a.id, a.cluster_id, c.headline, a.title, a.source, a.url, a.published, a.text,
                       bm25({table}, 4.0, 1.0) AS rank
                FROM {table} JOIN articles a ON a.id = {table}.rowid
                LEFT JOIN clusters c ON c.id = a.cluster_id
                WHERE {where} ORDER BY rank LIMIT ?""",
            (*params, limit),
        )
        for row in rows:
            row["snippet"] = _snippet(row.pop("text"), words)
        return rows

    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
        """Articles matching an FTS5 query, best first (bm25, title weighted above body)."""
        problem = check_fts_query(query)
        if problem:
            raise QueryError(query, problem)
        rows = self._rows(
            """SELECT a.id, a.cluster_id, c.headline, a.title, a.source, a.url, a.published,
                      snippet(articles_fts, 1, '[', ']', ' … ', 16) AS snippet,
                      bm25(articles_fts, 4.0, 1.0) AS rank
               FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
               LEFT JOIN clusters c ON c.id = a.cluster_id
               WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?""",
            (query, limit),
        )
        more = self._cjk_rows(query, limit) if has_cjk(query) else []  # the index of character pairs
        more += self._stem_rows(query, limit)  # the indexes stemmed in each language
        seen = {r["id"] for r in rows}
        for row in more:
            if row["id"] not in seen and len(rows) < limit:
                seen.add(row["id"])
                rows.append(row)
        return [
            SearchHit(
                article_id=r["id"],
                cluster_id=r["cluster_id"],
                headline=r["headline"],
                title=r["title"],
                source=r["source"],
                url=r["url"],
                published=r["published"],
                snippet=r["snippet"],
                rank=r["rank"],
            )
            for r in rows
        ]


def _snippet(text: str, words: list[str], around: int = 40) -> str:
    """Text around the first query word (or stem) found, marked [like this] as FTS5's snippet()
    marks its matches."""
    lower = text.lower()
    found = [
        (lower.find(w.lower()), w) for w in words if w not in ("AND", "OR", "NOT") and w.lower() in lower
    ]
    if not found:
        return text[: 2 * around]
    at, word = min(found)
    word = text[at : at + len(word)]
    start, end = max(0, at - around), min(len(text), at + len(word) + around)
    return (
        ("… " if start else "")
        + text[start:at]
        + f"[{word}]"
        + text[at + len(word) : end]
        + (" …" if end < len(text) else "")
    )
