"""What every query class of the store shares: the one connection and a few primitives."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import sqlite_utils

# Values per IN (...) list: well under SQLite's default limit of 32,766 bound parameters.
IN_CHUNK = 500


@contextmanager
def atomic(db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes can fail when another run wrote in
    between; an immediate one waits (busy_timeout) and then reads the other run's rows, so
    overlapping runs serialise instead of doubling or failing. Nested use is a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")


class Queries:
    """A group of queries on the store's connection (Store owns it and closes it)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def atomic(self) -> AbstractContextManager[None]:
        return atomic(self.db)

    def _rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(_as_dicts(self.db.execute(sql, params)))

    def _rows_in(
        self, sql: str, values: list[Any], before: tuple[Any, ...] = (), after: tuple[Any, ...] = ()
    ) -> Iterator[dict[str, Any]]:
        """Rows of `sql`, whose `{marks}` is an IN list over `values`, in chunks that stay under
        SQLite's limit on bound parameters."""
        for chunk_sql, params in _in_chunks(sql, values, before, after):
            yield from _as_dicts(self.db.execute(chunk_sql, params))

    def _tuples_in(
        self, sql: str, values: list[Any], before: tuple[Any, ...] = (), after: tuple[Any, ...] = ()
    ) -> Iterator[tuple[Any, ...]]:
        """_rows_in as plain tuples: no dict per row, for reads of many rows."""
        for chunk_sql, params in _in_chunks(sql, values, before, after):
            yield from self.db.execute(chunk_sql, params)

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row and return its rowid. Plain SQL: sqlite-utils' insert inspects the table
        first, which was a fifth of the cost of storing an article."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
        return int(cursor.lastrowid or 0)


def _as_dicts(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    """A read's rows as dicts. Not sqlite-utils' query(): it wraps every read in a savepoint (two
    more statements for each of the commit path's reads)."""
    keys = [column[0] for column in cursor.description]
    return (dict(zip(keys, row, strict=True)) for row in cursor)


def _in_chunks(
    sql: str, values: list[Any], before: tuple[Any, ...], after: tuple[Any, ...]
) -> Iterator[tuple[str, list[Any]]]:
    """`sql` with its `{marks}` filled for each chunk of `values`, and the chunk's parameters."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield sql.format(marks=",".join("?" * len(chunk))), [*before, *chunk, *after]
