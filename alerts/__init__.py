"""Deciding which matches raise alerts, and delivering them through Apprise. No SQL."""
