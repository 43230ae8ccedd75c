"""The settings as records: frozen dataclasses with their defaults, passed down explicitly.

wirewatch.config parses a TOML file into them; everything else only reads them, so they sit in the
ground layer with records and errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_DB_PATH = "wirewatch.db"
CONFIG_ENV_VAR = "WIREWATCH_CONFIG"
DEMO_BASE_URL = "http://demo.wirewatch.invalid"
DEFAULT_INTERVAL_MINUTES = 15.0
# Articles further apart than this never join one story (NewsBlur looks back 5 days).
DEFAULT_STORY_WINDOW_DAYS = 7.0
TOPIC_MODES = ("new_story", "every_article", "digest", "developments")


@dataclass(frozen=True, slots=True)
class Range:
    """The values a number in the config may take; NaN and infinities never fit."""

    low: float
    high: float
    # A timeout or an interval of 0 means nothing sensible: the low end itself is refused.
    low_excluded: bool = False

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_excluded else value >= self.low
        return above and value <= self.high  # False for NaN: every comparison with it is

    def describe(self) -> str:
        low, high = _plain(self.low), _plain(self.high)
        return f"greater than {low} and at most {high}" if self.low_excluded else f"from {low} to {high}"


def _plain(number: float) -> str:
    """1073741824, not 1.07374e+09: the number as a user would type it."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


# What config.py accepts, by key. Far beyond any real use, near enough that a slip (`-1`,
# `1e300`, `nan`) stops with one line instead of overflowing a date, turning a cap or a timeout
# off, or starting 100,000 connections. The README's Configuration section lists them.
_SECONDS = Range(0, 3600, low_excluded=True)  # an hour: no feed or page is worth waiting longer
_MINUTES = Range(0, 43_200, low_excluded=True)  # 30 days between polls
CONFIG_RANGES: dict[str, Range] = {
    "feeds.interval_minutes": _MINUTES,
    "topics.min_interval_minutes": Range(0, 43_200),  # 0: each development alone
    "alerts.max_attempts": Range(1, 100),
    "fetch.connect_timeout_s": _SECONDS,
    "fetch.read_timeout_s": _SECONDS,
    "fetch.total_timeout_s": _SECONDS,
    "fetch.max_feed_bytes": Range(1, 1 << 30),  # 1 GiB: a body is held in memory whole
    "fetch.max_page_bytes": Range(1, 1 << 30),
    "fetch.max_redirects": Range(0, 20),  # 20: what browsers follow
    "fetch.concurrency": Range(1, 256),
    "fetch.per_host_concurrency": Range(1, 64),
    "schedule.interval_minutes": _MINUTES,
    "stories.window_days": Range(0, 365, low_excluded=True),  # the story index holds the window
    "extract.workers": Range(0, 256),  # 0: one per core
}


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    url: str
    # Poll this feed at most this often, whatever the run schedule (None: every run).
    interval_minutes: float | None = None
    # The folder an OPML import found the feed in; shown by `wirewatch feeds`, kept on export.
    category: str | None = None


@dataclass(frozen=True, slots=True)
class TopicConfig:
    name: str
    query: str
    mode: str = "new_story"
    languages: tuple[str, ...] = ()  # only articles in these languages match (all when empty)
    # developments: at most one development alert per story this often; what arrives meanwhile
    # joins the one waiting.
    min_interval_minutes: float = 60.0


WATCHLIST_FORMATS = ("ofac-sdn", "ftm", "csv")
# A declared language is a BCP 47 tag; its primary subtag (two or three letters) is kept.
_LANGUAGE_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def declared_language(tag: str | None) -> str | None:
    """The primary language of a declared tag ("de-CH" -> "de"); None if it is not one (pages,
    feeds and a topic's `languages` are read with it)."""
    match = _LANGUAGE_TAG.match(tag or "")
    return match.group(1).lower() if match else None


@dataclass(frozen=True, slots=True)
class WatchlistConfig:
    """A sanctions list screened against every article (`[[watchlists]]`); its hits alert like a
    topic named `name`, once per entity and story."""

    name: str
    path: str  # absolute
    format: str


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    # Shared secret: each body is signed with HMAC-SHA256 so receivers can trust it.
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class AlertSettings:
    urls: tuple[str, ...] = ()
    webhooks: tuple[WebhookConfig, ...] = ()
    max_attempts: int = 8
    # Where alerts link a story's page: the review page's address as readers reach it.
    review_url: str = "http://127.0.0.1:8000"

    @property
    def has_channels(self) -> bool:
        return bool(self.urls or self.webhooks)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 8
    # Requests to one host at a time: many feeds on one site must not hammer it.
    per_host_concurrency: int = 2
    allow_private_networks: bool = False
    # When set, only these hosts are fetched (e.g. to poll feeds without following their links).
    allowed_hosts: frozenset[str] = frozenset()
    # An HTTP proxy for every request; the demo uses one to serve its fictional host on loopback.
    proxy: str | None = None
    user_agent: str = "wirewatch/0.1 (+https://github.com/wirewatch/wirewatch; news monitor)"


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When `wirewatch serve` runs the flow: every interval_minutes, or on a cron expression."""

    interval_minutes: float | None = DEFAULT_INTERVAL_MINUTES
    cron: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class StorySettings:
    """How story clusters are formed: articles further apart in time than the window never match."""

    window_days: float = DEFAULT_STORY_WINDOW_DAYS


@dataclass(frozen=True, slots=True)
class ExtractSettings:
    """Worker processes that extract pages: 0 is one per core this process may use."""

    workers: int = 0


@dataclass(frozen=True, slots=True)
class Settings:
    feeds: tuple[FeedConfig, ...] = ()
    topics: tuple[TopicConfig, ...] = ()
    watchlists: tuple[WatchlistConfig, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    stories: StorySettings = field(default_factory=StorySettings)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    database: str = DEFAULT_DB_PATH
    source: str = "<defaults>"
    is_demo: bool = False


# --- secrets in URLs: here in the ground so config errors mask them too (alerts.masking adds
# masking of free text and logs). ---------------------------------------------------------------

MASK = "***"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# In something malformed only a short all-letter prefix is taken for a scheme: `xoxb-1234:...`
# is a token.
_BARE_SCHEME = re.compile(r"[A-Za-z]{1,12}")
# A real host to keep: a dotted name ending in a letter label, an IPv4 or IPv6 address, or
# localhost, with an optional numeric port. Apprise URLs without a host put a token or a topic
# where the host goes (tgram://bot:token/chat, slack://T/B/C, ntfy://topic): those are masked.
_HOST_PORT = re.compile(
    r"(?:(?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|localhost)"
    r"(?::\d{1,5})?"
)
# Query keys whose values are credentials (?token=, ?apikey=, ?password=, ?sig=, +Authorization=).
_SECRET_QUERY_KEY = re.compile(r"token|key|pass|pwd|secret|sig|auth|code|cred|session|private", re.I)
# A value under another key that still looks like a token: long, or mixing letters and digits.
_TOKEN_LIKE = re.compile(r"(?=[^&]*\d)(?=[^&]*[A-Za-z])[^&]{8,}|[^&]{20,}")


def mask_url(url: str) -> str:
    """A channel or webhook URL as it may be printed, logged or stored: the scheme, host and port
    kept, so channels can be told apart (`ntfys://ntfy.sh/***`); userinfo, every path segment
    (Apprise's tokens and topics), the fragment and secret query values replaced by ***."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return _mask_malformed(url.strip())
    split = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, after = rest[:split], rest[split:]
    userinfo, at, host = netloc.rpartition("@")
    shown = (MASK + "@" if at else "") + (host if _HOST_PORT.fullmatch(host) else MASK)
    before_fragment, hash_sign, fragment = after.partition("#")
    path, question, query = before_fragment.partition("?")
    path = "/" + MASK if path.strip("/") else path
    query = "&".join(_mask_parameter(p) for p in query.split("&")) if question else ""
    return f"{scheme}://{shown}{path}{question}{query}{hash_sign}{MASK if fragment else ''}"


def _mask_parameter(parameter: str) -> str:
    key, equals, value = parameter.partition("=")
    if equals and value and (_SECRET_QUERY_KEY.search(key) or _TOKEN_LIKE.fullmatch(value)):
        return f"{key}={MASK}"
    return parameter


def _mask_malformed(text: str) -> str:
    """Something that is not scheme://...: which part is a host cannot be told, so only a
    leading scheme is kept (`ntfys:***`)."""
    scheme, colon, _ = text.partition(":")
    return f"{scheme}:{MASK}" if colon and _BARE_SCHEME.fullmatch(scheme) else MASK
