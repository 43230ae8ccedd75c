"""Articles, their dedup fingerprints, and the per-source paragraph counts templates are found by."""

from __future__ import annotations

import json
from dataclasses import astuple
from datetime import datetime

from wirewatch.query import SNOWBALL, cjk_index_text, has_cjk, stemmed_text
from wirewatch.records import NewArticle, StoredArticle, StoredFingerprint, StoredWindow
from wirewatch.store.queries import Queries
from wirewatch.timeutil import to_iso


class ArticleQueries(Queries):
    # --- articles -------------------------------------------------------------------------

    def insert(self, article: NewArticle, fetched: datetime) -> int | None:
        """Insert an article; None when its URL is already stored (a run is idempotent)."""
        if self._rows("SELECT 1 FROM articles WHERE url = ?", (article.url,)):
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
                "text_source": article.text_source,
                "language": article.language,
            },
        )
        # Not by trigger (store.schema._v15): FTS5 then keeps a chunk's terms until it commits.
        self.db.execute(
            "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
            (new_id, article.title, article.text),
        )
        self._index_cjk(new_id, article.title, article.text, fresh=True)
        self._index_stems(new_id, article.title, article.text, article.language, fresh=True)
        return new_id

    def _index_stems(
        self, article_id: int, title: str, text: str, language: str | None, fresh: bool = False
    ) -> None:
        """Keep the article's entry in the index stemmed in its language (articles_stem); a
        `fresh` article has none yet."""
        if not fresh:
            self.db.execute("DELETE FROM articles_stem WHERE rowid = ?", (article_id,))
        if language in SNOWBALL:
            self.db.execute(
                "INSERT INTO articles_stem (rowid, title, text, language) VALUES (?, ?, ?, ?)",
                (article_id, stemmed_text(title, language), stemmed_text(text, language), language),
            )

    def _index_cjk(self, article_id: int, title: str, text: str, fresh: bool = False) -> None:
        """Keep the article's entry in the CJK index (articles_cjk) in step with its text; a
        `fresh` article has none yet."""
        if not fresh:
            self.db.execute("DELETE FROM articles_cjk WHERE rowid = ?", (article_id,))
        if has_cjk(title) or has_cjk(text):
            self.db.execute(
                "INSERT INTO articles_cjk (rowid, title, text) VALUES (?, ?, ?)",
                (article_id, cjk_index_text(title), cjk_index_text(text)),
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
                "text_source": article.text_source,
                "language": article.language,
            },
        )
        self._index_cjk(int(rows[0]["id"]), article.title, article.text)
        self._index_stems(int(rows[0]["id"]), article.title, article.text, article.language)
        return int(rows[0]["id"])

    def save_novelty(self, article_id: int, sentences: list[str], count: int, weight: float) -> None:
        """What the article added to its story (dedup.novelty): its new sentences, how many (all of
        its sentences for the first article of a story, with no list) and their weight."""
        self.db.execute(
            "UPDATE articles SET new_sentences = ?, new_count = ?, novelty = ? WHERE id = ?",
            (json.dumps(sentences, ensure_ascii=False), count, weight, article_id),
        )

    def _member_ids(self, cluster_id: int, exclude: int | None, first: int, last: int) -> list[int]:
        """A story's members but `exclude`, oldest first: its first `first` and last `last`."""
        ids = [
            r[0]
            for r in self.db.execute(
                """SELECT id FROM articles WHERE cluster_id = ? AND id IS NOT ?
                   ORDER BY COALESCE(published, fetched), id""",
                (cluster_id, exclude),
            )
        ]
        return ids if len(ids) <= first + last else ids[:first] + ids[-last:]

    def story_texts(
        self, cluster_id: int, exclude: int | None = None, first: int = 10, last: int = 40
    ) -> list[tuple[str, str, str]]:
        """The (source, title, text) of a story's members but `exclude`, oldest first: its first
        `first` and last `last` (a story of hundreds is mostly copies). Only their texts are read."""
        kept = self._member_ids(cluster_id, exclude, first, last)
        texts = {
            r["id"]: (r["source"], r["title"], r["text"])
            for r in self._rows_in("SELECT id, source, title, text FROM articles WHERE id IN ({marks})", kept)
        }
        return [texts[i] for i in kept]

    def save_statements(self, article_id: int, statements: bytes) -> None:
        """Keep what the article says (dedup.statements.packed), replacing what it said before."""
        self.db.execute(
            "INSERT OR REPLACE INTO article_statements (article_id, statements) VALUES (?, ?)",
            (article_id, statements),
        )

    def story_statements(
        self, cluster_id: int, exclude: int | None = None, first: int = 10, last: int = 40
    ) -> list[tuple[bytes | None, str, str]]:
        """What a story's members but `exclude` say, oldest first, its first `first` and last
        `last` (as story_texts): (packed statements, title, text) each, the title and text empty
        when the statements are kept (articles stored before they were have none)."""
        ids = self._member_ids(cluster_id, exclude, first, last)
        found = {
            article_id: (statements, title or "", text or "")
            for article_id, statements, title, text in self._tuples_in(
                """SELECT a.id, s.statements, CASE WHEN s.statements IS NULL THEN a.title END,
                          CASE WHEN s.statements IS NULL THEN a.text END
                   FROM articles a LEFT JOIN article_statements s ON s.article_id = a.id
                   WHERE a.id IN ({marks})""",
                ids,
            )
        }
        return [found[i] for i in ids]

    def language_of(self, article_id: int) -> str | None:
        row = self.db.execute("SELECT language FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def listing(self, cluster_id: int | None = None) -> list[StoredArticle]:
        """Every article, or a cluster's, oldest first."""
        where, params = ("WHERE cluster_id = ?", (cluster_id,)) if cluster_id is not None else ("", ())
        rows = self._rows(
            f"""SELECT id, url, title, source, published, cluster_id, tier, text, from_feed_only,
                       text_source, language, new_sentences, new_count
                FROM articles {where} ORDER BY COALESCE(published, fetched), id""",
            params,
        )
        return [
            StoredArticle(
                **{
                    **r,
                    "from_feed_only": bool(r["from_feed_only"]),
                    "new_sentences": tuple(json.loads(r["new_sentences"])) if r["new_sentences"] else None,
                }
            )
            for r in rows
        ]

    # --- a source's template paragraphs ---------------------------------------------------

    def source_paragraph_counts(self, source: str, keys: list[str]) -> dict[str, int]:
        sql = "SELECT key, pages FROM source_paragraphs WHERE source = ? AND key IN ({marks})"
        return {r["key"]: r["pages"] for r in self._rows_in(sql, keys, before=(source,))}

    def count_source_paragraphs(self, source: str, keys: tuple[str, ...]) -> None:
        self.db.conn.executemany(
            """INSERT INTO source_paragraphs (source, key, pages) VALUES (?, ?, 1)
               ON CONFLICT (source, key) DO UPDATE SET pages = pages + 1""",
            [(source, key) for key in keys],
        )

    # --- fingerprints ---------------------------------------------------------------------

    def save_fingerprint(self, fingerprint: StoredFingerprint) -> None:
        self.db.execute(
            """INSERT INTO fingerprints (article_id, seen, arrived, kept, words, terms, titles)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            astuple(fingerprint),
        )

    def replace_fingerprint(self, fingerprint: StoredFingerprint) -> None:
        self.db.execute("DELETE FROM fingerprints WHERE article_id = ?", (fingerprint.article_id,))
        self.save_fingerprint(fingerprint)

    def recent_fingerprints(self, window_seconds: float) -> StoredWindow:
        """Fingerprints of the articles stored within `window_seconds` of the latest, oldest first,
        each with its article's cluster, as columns."""
        rows = self.db.execute(
            """SELECT f.article_id, a.cluster_id, f.seen, f.arrived, f.kept, f.words, f.terms, f.titles
               FROM fingerprints f JOIN articles a INDEXED BY articles_cluster_of ON a.id = f.article_id
               WHERE f.arrived >= (SELECT MAX(arrived) FROM fingerprints) - ?
               ORDER BY f.arrived, f.article_id""",
            (window_seconds,),
        ).fetchall()
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(8)]
        return StoredWindow(*columns)

    def without_fingerprint(
        self, limit: int, below: int | None = None
    ) -> list[tuple[int, str, str, str | None, str]]:
        """(id, title, text, published, fetched) of up to `limit` articles without a fingerprint,
        newest first: with ids below `below`; without it, from the newest, if any article is newer
        than the newest fingerprinted one (else none)."""
        if below is None:
            # Only a schema upgrade leaves articles without one (it drops them all), so any is newer
            # than the newest fingerprinted article: two lookups by key spare every run's start the
            # anti-join over the whole store (115 ms at 30,000 articles, growing with it).
            newer = """SELECT MAX(id) + 1 FROM articles
                       WHERE id > (SELECT COALESCE(MAX(article_id), 0) FROM fingerprints)"""
            below = self.db.execute(newer).fetchone()[0]
            if below is None:
                return []
        return self.db.execute(
            """SELECT id, title, text, published, fetched FROM articles
               WHERE id < ? AND id NOT IN (SELECT article_id FROM fingerprints)
               ORDER BY id DESC LIMIT ?""",
            (below, limit),
        ).fetchall()

    def fingerprint_times(self, article_id: int) -> tuple[float, float] | None:
        """(seen, arrived) of a stored fingerprint."""
        row = self.db.execute(
            "SELECT seen, arrived FROM fingerprints WHERE article_id = ?", (article_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None
