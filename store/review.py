"""What the review page reads and writes: cluster summaries for listing, and read / muted state.

Muting is per story: when clusters merge, a story muted under either id stays muted, so the
check follows merges down from the live cluster to every cluster merged into it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wirewatch.store.base import StoreBase

from wirewatch.records import ClusterSummary
from wirewatch.timeutil import to_iso

# The list page shows this many clusters at most; older stories are reached by topic or search.
REVIEW_LIST_LIMIT = 500

# Every cluster merged (directly or through others) into the one given, itself included.
_FAMILY_CTE = """WITH RECURSIVE family(id) AS (
    SELECT ? UNION SELECT c.id FROM clusters c JOIN family f ON c.merged_into = f.id
)"""


class ReviewMixin(StoreBase):
    def review_clusters(
        self,
        topic: str | None = None,
        since: datetime | None = None,
        ids: list[int] | None = None,
        limit: int = REVIEW_LIST_LIMIT,
    ) -> list[ClusterSummary]:
        """Live clusters newest first, optionally only a topic's, those seen since a time, or `ids`."""
        where = ["c.merged_into IS NULL"]
        params: list[Any] = []
        if topic:
            where.append("c.id IN (SELECT cluster_id FROM topic_matches WHERE topic = ?)")
            params.append(topic)
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
                read=bool(r["read"]),
                muted=r["id"] in muted,
            )
            for r in rows
        ]

    def review_cluster(self, cluster_id: int) -> ClusterSummary | None:
        """One live cluster's summary; None for an unknown or merged id (see Store.live_cluster)."""
        found = self.review_clusters(ids=[cluster_id], limit=1)
        return found[0] if found else None

    def topic_names(self) -> list[str]:
        return [r["topic"] for r in self._rows("SELECT DISTINCT topic FROM topic_matches ORDER BY topic")]

    def cluster_is_muted(self, cluster_id: int) -> bool:
        """Whether this story was muted, under its own id or that of a cluster merged into it."""
        rows = self._rows(
            f"""{_FAMILY_CTE}
                SELECT 1 FROM cluster_state s JOIN family f ON s.cluster_id = f.id
                WHERE s.muted = 1 LIMIT 1""",
            (cluster_id,),
        )
        return bool(rows)

    def set_cluster_read(self, cluster_id: int, read: bool, now: datetime) -> None:
        with self.atomic():
            self._upsert_state(cluster_id, "read", read, now)

    def set_cluster_muted(self, cluster_id: int, muted: bool, now: datetime) -> None:
        with self.atomic():
            self._upsert_state(cluster_id, "muted", muted, now)
            if not muted:
                # Unmuting the story unmutes the clusters merged into it, or it would stay muted.
                self.db.execute(
                    f"""{_FAMILY_CTE}
                        UPDATE cluster_state SET muted = 0, updated = ?
                        WHERE cluster_id IN (SELECT id FROM family) AND muted = 1""",
                    (cluster_id, to_iso(now)),
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
        live: set[int] = set()
        for row in self._rows("SELECT cluster_id FROM cluster_state WHERE muted = 1"):
            cluster_id = row["cluster_id"]
            seen: set[int] = set()
            while cluster_id not in seen:
                seen.add(cluster_id)
                parent = self._rows("SELECT merged_into FROM clusters WHERE id = ?", (cluster_id,))
                if not parent or parent[0]["merged_into"] is None:
                    break
                cluster_id = parent[0]["merged_into"]
            live.add(cluster_id)
        return live
