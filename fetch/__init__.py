"""Polite, bounded HTTP fetching of feeds and pages, and feed parsing. No SQL, no Prefect."""
