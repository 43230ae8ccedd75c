"""Story clusters: placing articles, merging clusters as dedup decides, headlines, listing, and
the record of why each member joined (for `wirewatch clusters --explain`).

A merged cluster keeps its row, pointing at the cluster it was merged into (`merged_into`); its
articles, matches and alerts move. `merge_chain` is the one walk along those pointers.
"""

from __future__ import annotations

import json
from typing import Any

from wirewatch.records import ClusterMember, ClusterMerge, Placement, StoredCluster
from wirewatch.store.articles import ArticleQueries
from wirewatch.store.queries import Queries
from wirewatch.timeutil import utc_now


def merge_chain(starts: str) -> str:
    """A recursive CTE `chain(start, id, up)`: for each cluster id that `starts` gives (SQL: `?`
    marks or a SELECT), every cluster on its way along merges, itself first, up to the live
    cluster that holds its articles now (the row whose `up` is NULL).

    A cluster lies on the chain of `start` exactly when `start` was merged into it, directly or
    through others (or is it). UNION ends a cycle, which merging never makes.
    """
    return f"""WITH RECURSIVE chain(start, id, up) AS (
        SELECT id, id, merged_into FROM clusters WHERE id IN ({starts})
        UNION
        SELECT chain.start, c.id, c.merged_into FROM chain JOIN clusters c ON c.id = chain.up
    )"""


class ClusterQueries(Queries):
    # --- placing articles -----------------------------------------------------------------

    def live(self, cluster_id: int) -> int:
        """Follow merges to the cluster that holds a merged cluster's articles now (an unknown id
        is its own)."""
        rows = self._rows(f"{merge_chain('?')} SELECT id FROM chain WHERE up IS NULL", (cluster_id,))
        return int(rows[0]["id"]) if rows else cluster_id

    def create(self, article_id: int, seen: str) -> int:
        """A new cluster for an article; its headline is the article's title until it grows.
        `seen` is the article's date (or fetch time)."""
        now = utc_now().isoformat()  # UTC, whole seconds: the stored format (timeutil.to_iso)
        cursor = self.db.execute(
            """INSERT INTO clusters (headline, first_seen, last_seen, created)
               SELECT title, ?, ?, ? FROM articles WHERE id = ?""",
            (seen, seen, now, article_id),
        )
        return int(cursor.lastrowid or 0)

    def merge(self, source: int, into: int, article_id: int) -> None:
        """Merge the live cluster `source` into the live cluster `into` (dedup chooses which one
        survives): its articles, topic matches and alerts move, its time span joins, and the
        merge is recorded with the article that bridged them."""
        now = utc_now().isoformat()
        self.db.execute("UPDATE articles SET cluster_id = ? WHERE cluster_id = ?", (into, source))
        self.db.execute("UPDATE topic_matches SET cluster_id = ? WHERE cluster_id = ?", (into, source))
        self.db.execute("UPDATE alerts SET cluster_id = ? WHERE cluster_id = ?", (into, source))
        # Its cross-language links go; the surviving story's are found again as it grew.
        self.db.execute("DELETE FROM story_links WHERE cluster_id = ? OR related_id = ?", (source, source))
        self.db.execute(
            """UPDATE clusters SET
                 first_seen = MIN(first_seen, (SELECT first_seen FROM clusters WHERE id = ?)),
                 last_seen = MAX(last_seen, (SELECT last_seen FROM clusters WHERE id = ?))
               WHERE id = ?""",
            (source, source, into),
        )
        self.db.table("clusters").update(source, {"merged_into": into})
        self.db.table("cluster_merges").insert(
            {"from_cluster": source, "into_cluster": into, "article_id": article_id, "merged_at": now}
        )

    def widen(self, cluster_id: int, seen: str) -> None:
        """Stretch a cluster's time span to an article joining it, seen at `seen`."""
        self.db.execute(
            """UPDATE clusters SET first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?)
               WHERE id = ?""",
            (seen, seen, cluster_id),
        )

    def place(self, article_id: int, cluster_id: int, placement: Placement) -> None:
        """Record an article's cluster and dedup's decision for it (tier, match, scores)."""
        self.db.execute(
            """UPDATE articles SET cluster_id = ?, tier = ?, matched_article_id = ?, match_score = ?,
                 match_basis = ?, match_scores = ? WHERE id = ?""",
            (
                cluster_id,
                placement.tier,
                placement.matched_article_id,
                placement.score,
                placement.basis,
                json.dumps(dict(placement.scores)) if placement.scores else None,
                article_id,
            ),
        )

    def placement_of(self, article_id: int) -> tuple[int, Placement]:
        """A stored article's live cluster and the decision that placed it."""
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
        return self.live(row["cluster_id"]), placement

    # --- headlines ------------------------------------------------------------------------

    def titles(self, cluster_id: int, limit: int) -> list[str]:
        """The `limit` most recent member titles, oldest first."""
        rows = self._rows(
            """SELECT title FROM articles WHERE cluster_id = ?
               ORDER BY COALESCE(published, fetched) DESC, id DESC LIMIT ?""",
            (cluster_id, limit),
        )
        return [r["title"] for r in reversed(rows)]

    def set_headline(self, cluster_id: int, headline: str) -> None:
        self.db.execute("UPDATE clusters SET headline = ? WHERE id = ?", (headline, cluster_id))

    # --- listing and explaining -----------------------------------------------------------

    def listing(
        self, topic: str | None = None, article_ids: set[int] | None = None, *, muted: bool = True
    ) -> list[StoredCluster]:
        """Live clusters, newest first; only those matching `topic` or holding `article_ids`;
        with `muted=False` not the stories the reader muted (the Atom feed leaves them out)."""
        sql = "SELECT * FROM clusters WHERE merged_into IS NULL"
        params: list[Any] = []
        if not muted:
            # A story muted under a cluster merged since is muted too: follow each along merges.
            chain = merge_chain("SELECT cluster_id FROM cluster_state WHERE muted = 1")
            sql = f"{chain} {sql} AND id NOT IN (SELECT id FROM chain WHERE up IS NULL)"
        if topic:
            sql += " AND id IN (SELECT cluster_id FROM topic_matches WHERE topic = ?)"
            params.append(topic)
        if article_ids is not None:
            ids = sorted(article_ids)
            sql += f" AND id IN (SELECT cluster_id FROM articles WHERE id IN ({','.join('?' * len(ids))}))"
            params.extend(ids)
        articles = ArticleQueries(self.db)
        clusters = []
        for row in self._rows(sql + " ORDER BY last_seen DESC, id DESC", params):
            members = tuple(articles.listing(row["id"]))
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
                    sources_count=len({a.source for a in members}),
                    topics=topics,
                    articles=members,
                )
            )
        return clusters

    def members(self, cluster_id: int) -> list[ClusterMember]:
        """Each article of a cluster with the match that placed it, oldest first."""
        rows = self._rows(
            """SELECT a.id, a.title, a.source, a.published, a.tier, a.matched_article_id,
                      m.title AS matched_title, a.match_score AS score, a.match_basis AS basis,
                      a.match_scores AS scores
               FROM articles a LEFT JOIN articles m ON m.id = a.matched_article_id
               WHERE a.cluster_id = ? ORDER BY COALESCE(a.published, a.fetched), a.id""",
            (cluster_id,),
        )
        return [
            ClusterMember(
                **{
                    **r,
                    "tier": r["tier"] or "original",
                    "scores": tuple(json.loads(r["scores"]).items()) if r["scores"] else (),
                }
            )
            for r in rows
        ]

    def merges(self, cluster_id: int) -> list[ClusterMerge]:
        """Merges into this cluster, directly or through clusters merged into it, in order."""
        rows = self._rows(
            f"""{merge_chain("SELECT from_cluster FROM cluster_merges")}
                SELECT from_cluster, into_cluster, article_id, merged_at FROM cluster_merges
                WHERE from_cluster IN (SELECT start FROM chain WHERE id = ? AND start != ?)
                ORDER BY merged_at, id""",
            (cluster_id, cluster_id),
        )
        return [ClusterMerge(**r) for r in rows]
