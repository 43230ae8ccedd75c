"""The record of why each article joined its story cluster, for `wirewatch clusters --explain`."""

from __future__ import annotations

import json

from wirewatch.store.base import StoreBase

from wirewatch.records import ClusterMember, ClusterMerge


class ExplainMixin(StoreBase):
    def cluster_members(self, cluster_id: int) -> list[ClusterMember]:
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

    def cluster_merges(self, cluster_id: int) -> list[ClusterMerge]:
        """Merges into this cluster, directly or through clusters merged into it."""
        merges: list[ClusterMerge] = []
        targets = [cluster_id]
        while targets:
            target = targets.pop()
            for r in self._rows(
                """SELECT from_cluster, into_cluster, article_id, merged_at FROM cluster_merges
                   WHERE into_cluster = ?""",
                (target,),
            ):
                merges.append(ClusterMerge(**r))
                targets.append(r["from_cluster"])
        return sorted(merges, key=lambda m: m.merged_at)
