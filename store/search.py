"""Full-text search over articles with SQLite FTS5: the syntax topics and `wirewatch search` share."""

from __future__ import annotations

from typing import Any

from wirewatch.store.base import StoreBase

from wirewatch.errors import QueryError
from wirewatch.query import check_fts_query
from wirewatch.records import SearchHit

SEARCH_LIMIT = 200


class SearchMixin(StoreBase):
    def search(self, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
        """Articles matching an FTS5 query, best first (bm25, title weighted above body)."""
        problem = check_fts_query(query)
        if problem:
            raise QueryError(query, problem)
        rows: list[dict[str, Any]] = list(
            self.db.query(
                """SELECT a.id, a.cluster_id, c.headline, a.title, a.source, a.url, a.published,
                          snippet(articles_fts, 1, '[', ']', ' … ', 16) AS snippet,
                          bm25(articles_fts, 4.0, 1.0) AS rank
                   FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
                   LEFT JOIN clusters c ON c.id = a.cluster_id
                   WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?""",
                (query, limit),
            )
        )
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
