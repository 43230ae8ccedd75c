"""Cross-language links between stories: each article's anchors and the links dedup.related finds.

The anchors table answers "which stories of these days tell this number / date / name" by its
primary key; links are kept one row per direction, so a story's related stories are one lookup.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from wirewatch.records import RelatedStory, StoryEvidence, WindowStories
from wirewatch.store.queries import Queries
from wirewatch.timeutil import parse_iso, to_iso


class LinkQueries(Queries):
    def save_anchors(self, article_id: int, anchors: frozenset[str], fresh: bool = False) -> None:
        """Replace an article's anchors (a feed-only article gets its page's later); a `fresh`
        article, stored in this transaction, has none yet."""
        if not fresh:
            self.db.execute("DELETE FROM article_anchors WHERE article_id = ?", (article_id,))
        self.db.conn.executemany(
            "INSERT INTO article_anchors (anchor, article_id) VALUES (?, ?)",
            [(anchor, article_id) for anchor in sorted(anchors)],
        )

    def evidence(self, cluster_ids: list[int]) -> dict[int, StoryEvidence]:
        """Each live cluster's evidence: its members' anchors, their most common language and its
        first-seen time. Clusters whose members have no language or no anchors are left out."""
        languages: dict[int, Counter[str]] = {}
        for cluster_id, language in self._tuples_in(
            "SELECT cluster_id, language FROM articles WHERE cluster_id IN ({marks}) AND language NOT NULL",
            cluster_ids,
        ):
            languages.setdefault(cluster_id, Counter())[language] += 1
        anchors: dict[int, set[str]] = {}
        # DISTINCT: twenty copies of a wire story tell its anchors twenty times.
        for cluster_id, anchor in self._tuples_in(
            """SELECT DISTINCT a.cluster_id, x.anchor FROM articles a JOIN article_anchors x
               ON x.article_id = a.id WHERE a.cluster_id IN ({marks})""",
            cluster_ids,
        ):
            anchors.setdefault(cluster_id, set()).add(anchor)
        first_seen: dict[int, datetime] = {}
        for cluster_id, seen_at in self._tuples_in(
            "SELECT id, first_seen FROM clusters WHERE id IN ({marks})", cluster_ids
        ):
            if (seen := parse_iso(seen_at)) is not None:
                first_seen[cluster_id] = seen
        return {
            cid: StoryEvidence(
                cid, languages[cid].most_common(1)[0][0], first_seen[cid], frozenset(anchors[cid])
            )
            for cid in cluster_ids
            if cid in languages and cid in anchors and cid in first_seen
        }

    def candidates(
        self, anchors: frozenset[str], since: datetime, until: datetime, exclude: int, language: str
    ) -> list[int]:
        """Live clusters first seen in [since, until] with a member not in `language` (or of no
        declared language) that tells at least one of these anchors: the stories a story in
        `language` may be linked to (dedup.related links across languages only)."""
        found: set[int] = set()
        for (cluster_id,) in self._tuples_in(
            """SELECT DISTINCT c.id FROM article_anchors x JOIN articles a ON a.id = x.article_id
               JOIN clusters c ON c.id = a.cluster_id
               WHERE x.anchor IN ({marks}) AND c.merged_into IS NULL AND c.first_seen BETWEEN ? AND ?
                 AND c.id != ? AND (a.language IS NULL OR a.language != ?)""",
            sorted(anchors),
            after=(to_iso(since), to_iso(until), exclude, language),
        ):
            found.add(int(cluster_id))
        return sorted(found)

    def tellers(
        self, anchors: set[str], since: datetime, until: datetime, from_id: int = 0
    ) -> list[tuple[str, str, str]]:
        """(anchor, language, first seen) of each live cluster first seen in [since, until] whose
        members of that language tell one of these anchors, once per cluster: how many stories of
        each language tell each anchor (dedup.related.Rarity.told), for any part of the window.
        `from_id`: no member of those clusters has a lower id (WindowStories.first_member), so an
        anchor's older tellers, however many the store holds, are not read."""
        return [
            (anchor, language, first_seen)
            for anchor, language, _, first_seen in self._tuples_in(
                """SELECT DISTINCT x.anchor, a.language, c.id, c.first_seen
                   FROM article_anchors x JOIN articles a ON a.id = x.article_id
                   JOIN clusters c ON c.id = a.cluster_id
                   WHERE x.anchor IN ({marks}) AND x.article_id >= ? AND c.merged_into IS NULL
                     AND c.first_seen BETWEEN ? AND ? AND a.language NOT NULL""",
                sorted(anchors),
                after=(from_id, to_iso(since), to_iso(until)),
            )
        ]

    def window_stories(self, since: datetime, until: datetime) -> WindowStories:
        """The live clusters first seen in [since, until]: each one's first-seen time with each
        language its members have (how many stories each language has: dedup.related.Rarity.stories),
        and the lowest id of their members."""
        rows = self.db.execute(
            """SELECT c.first_seen, a.language, MIN(a.id) FROM clusters c
               JOIN articles a ON a.cluster_id = c.id
               WHERE c.merged_into IS NULL AND c.first_seen BETWEEN ? AND ? AND a.language NOT NULL
               GROUP BY c.id, a.language""",
            (to_iso(since), to_iso(until)),
        ).fetchall()
        return WindowStories(
            [(first_seen, language) for first_seen, language, _ in rows], min((r[2] for r in rows), default=0)
        )

    def replace_links(self, cluster_id: int, related: list[RelatedStory], language: str) -> None:
        """Set a story's links (both directions) to `related`; links it no longer has are dropped."""
        self.db.execute(
            "DELETE FROM story_links WHERE cluster_id = ? OR related_id = ?", (cluster_id, cluster_id)
        )
        rows = []
        for link in related:
            shared = json.dumps(list(link.shared), ensure_ascii=False)
            rows.append((cluster_id, link.story, link.language, link.score, shared))
            rows.append((link.story, cluster_id, language, link.score, shared))
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO story_links (cluster_id, related_id, language, score, shared) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def related(self, cluster_id: int) -> list[RelatedStory]:
        """The live stories in other languages linked to this one, the strongest first."""
        rows = self._rows(
            """SELECT l.related_id, l.language, l.score, l.shared FROM story_links l
               JOIN clusters c ON c.id = l.related_id AND c.merged_into IS NULL
               WHERE l.cluster_id = ? ORDER BY l.score DESC, l.related_id""",
            (cluster_id,),
        )
        return [
            RelatedStory(
                int(r["related_id"]), r["language"], float(r["score"]), tuple(json.loads(r["shared"]))
            )
            for r in rows
        ]
