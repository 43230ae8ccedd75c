"""wirewatch: watch many news feeds, read the real article, alert once per development."""

__version__ = "0.1.0"
