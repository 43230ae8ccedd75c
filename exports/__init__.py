"""Formats other programs read: Atom feeds of a topic's stories, OPML feed lists."""
