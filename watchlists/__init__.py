"""Watchlists: sanctions lists (OFAC SDN, OpenSanctions / FollowTheMoney, a plain CSV) loaded
into one multi-pattern screen that finds their names, in any of their spellings, in articles."""

from wirewatch.watchlists.lists import load_watchlist
from wirewatch.watchlists.screen import Screen

__all__ = ["Screen", "load_watchlist"]
