"""Persistence: the only package that writes SQL. One SQLite file, WAL mode, foreign keys on."""

from wirewatch.store.database import Store, open_store

__all__ = ["Store", "open_store"]
