"""One exception tree; every error names its culprit (file, key, URL) so the CLI can print one line."""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of every error wirewatch raises on purpose."""


class ConfigError(WirewatchError):
    """A configuration file is missing, unreadable or holds a bad value."""

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class FetchError(WirewatchError):
    """A feed or page could not be fetched."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(f"{url}: {reason}")


class ExtractionError(WirewatchError):
    """A page or file held no article text we could keep."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class QueryError(WirewatchError):
    """A full-text query is not valid FTS5 syntax."""

    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        super().__init__(f"invalid query {query!r}: {reason}")


class OpmlError(WirewatchError):
    """An OPML file cannot be read, or its feeds cannot be written to the config."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
