"""The query syntax topics and `wirewatch search` share: SQLite FTS5's, checked without a store."""

from __future__ import annotations

import sqlite3


def check_fts_query(query: str) -> str | None:
    """Return FTS5's reason a query is invalid, or None when it parses."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(title, text, tokenize='porter')")
        conn.execute("SELECT rowid FROM probe WHERE probe MATCH ?", (query,)).fetchall()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None
