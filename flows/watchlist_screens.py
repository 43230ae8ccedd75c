"""The screen of a config's watchlists, loaded once per process and again when a list file
changes (its size or modification time), so a scheduled run picks up a new edition of a list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wirewatch.records import WatchEntity
from wirewatch.settings import WatchlistConfig
from wirewatch.watchlists import Screen, load_watchlist

_cache: dict[tuple[tuple[str, str, str, int, int], ...], Screen] = {}


def _stamp(config: WatchlistConfig) -> tuple[str, str, str, int, int]:
    stat = Path(config.path).stat()
    return config.name, config.path, config.format, stat.st_size, stat.st_mtime_ns


def screen_of(lists: tuple[WatchlistConfig, ...], warn: Callable[[str], None]) -> Screen | None:
    """One screen over every list (None without lists); each malformed row is one warning."""
    if not lists:
        return None
    key = tuple(_stamp(c) for c in lists)
    if key not in _cache:
        entities: list[WatchEntity] = []
        for config in lists:
            loaded = load_watchlist(Path(config.path), config.format, config.name)
            for problem in loaded.problems:
                warn(f"watchlist {config.name}: {problem}; row skipped")
            entities.extend(loaded.entities)
        _cache.clear()
        _cache[key] = Screen(entities)
    return _cache[key]
