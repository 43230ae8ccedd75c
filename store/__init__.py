"""Persistence: the only package that writes SQL. One SQLite file, WAL mode, foreign keys on.

`open_store(path)` gives a Store; its query classes are `feeds`, `articles`, `clusters`,
`outbox`, `review` and `links`.
"""

from wirewatch.store.database import Store, open_store

__all__ = ["Store", "open_store"]
