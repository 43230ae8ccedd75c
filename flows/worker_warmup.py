"""Imported once by the worker processes' fork server (flows.extract_pool), never by a flow: what
each worker would otherwise load on its first reading task (the embedding model, the place-name
automaton, compiled patterns: about 0.5 s) is loaded there, and every worker forked from it
starts with it, sharing its pages. A large run's reading workers start while placing waits."""

from __future__ import annotations

from wirewatch.dedup.reading import read_many

try:
    read_many(
        [("Warm-up in Paris", "Reading loads its model and tables on first use, on 3 March 2026.", "en")]
    )
except Exception:  # noqa: BLE001 - a worker meets the same error itself, and the run reports it
    pass
