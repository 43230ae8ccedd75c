"""Settings: defaults, then one TOML file, parsed once into frozen records passed down explicitly.

Lookup order for the file: --config, else $WIREWATCH_CONFIG, else ./wirewatch.toml, else the
bundled demo config. Every error names the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from wirewatch.errors import ConfigError
from wirewatch.query import check_fts_query
from wirewatch.settings import (
    CONFIG_ENV_VAR,
    CONFIG_RANGES,
    DEFAULT_DB_PATH,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_STORY_WINDOW_DAYS,
    DEMO_BASE_URL,
    TOPIC_MODES,
    WATCHLIST_FORMATS,
    AlertSettings,
    ExtractSettings,
    FeedConfig,
    FetchSettings,
    ScheduleSettings,
    Settings,
    StorySettings,
    TopicConfig,
    WatchlistConfig,
    WebhookConfig,
    declared_language,
    mask_url,
)


def demo_config_path() -> Path:
    return Path(str(resources.files("wirewatch.demo").joinpath("wirewatch.toml")))


def find_config(explicit: str | None, env: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """Return the config file to read and whether it is the bundled demo config."""
    env = os.environ if env is None else env
    demo = demo_config_path()
    if explicit:
        chosen = Path(explicit)
    elif env.get(CONFIG_ENV_VAR):
        chosen = Path(env[CONFIG_ENV_VAR])
    elif Path("wirewatch.toml").is_file():
        chosen = Path("wirewatch.toml")
    else:
        return demo, True
    # The demo's config named by path (a deployment's parameter, say) is still the demo.
    return chosen, chosen.resolve() == demo.resolve()


def load_settings(
    explicit: str | None = None,
    *,
    db_override: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    path, is_demo = find_config(explicit, env)
    raw_text = _read_config_text(path)
    if is_demo:
        raw_text = raw_text.replace("${BASE_URL}", DEMO_BASE_URL)
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"invalid TOML: {exc}") from exc
    settings = parse_settings(data, str(path), is_demo=is_demo)
    if db_override:
        return _replace(settings, database=db_override)
    if settings.database != DEFAULT_DB_PATH and not is_demo:
        # A relative database path in a config file means "next to that file".
        db = Path(settings.database)
        if not db.is_absolute():
            return _replace(settings, database=str(path.parent / db))
    return settings


def _read_config_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read config file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        # TOML is UTF-8; a file saved as Latin-1 or UTF-16 names the first byte that is not.
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            str(path), None, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line})"
        ) from None


def _replace(settings: Settings, **changes: Any) -> Settings:
    from dataclasses import replace

    return replace(settings, **changes)


class _Reader:
    """Checks one TOML table against the keys and types a record accepts."""

    def __init__(self, path: str) -> None:
        self.path = path

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ConfigError(self.path, key, f"expected a table, got {_type_name(value)}")
        return value

    def check_keys(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                full = f"{prefix}.{key}" if prefix else key
                raise ConfigError(self.path, full, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def typed(
        self,
        table: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        prefix: str,
        default: Any = None,
        required: bool = False,
    ) -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if key not in table:
            if required:
                raise ConfigError(self.path, full, "missing required key")
            return default
        value = table[key]
        # bool is an int in Python; a timeout of `true` is still a wrong type.
        wrong_bool = isinstance(value, bool) and bool not in _as_tuple(kind)
        if wrong_bool or not isinstance(value, kind):
            raise ConfigError(self.path, full, f"expected {_kind_name(kind)}, got {_type_name(value)}")
        return value

    def number(
        self,
        table: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        prefix: str,
        default: Any = None,
    ) -> Any:
        """A number within its settings.CONFIG_RANGES entry (found by the key without its list
        index: `feeds[3].interval_minutes` has the range of `feeds.interval_minutes`)."""
        value = self.typed(table, key, kind, prefix, default)
        allowed = CONFIG_RANGES[f"{prefix.split('[')[0]}.{key}"]
        if value is not None and not allowed.contains(value):
            full = f"{prefix}.{key}" if prefix else key
            raise ConfigError(self.path, full, f"must be {allowed.describe()} (got {value!r})")
        return value

    def http_url(self, value: str, key: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                self.path, key, f"malformed URL {mask_url(value)!r} (need http:// or https:// and a host)"
            )
        return value


def parse_settings(data: dict[str, Any], path: str, *, is_demo: bool = False) -> Settings:
    r = _Reader(path)
    r.check_keys(
        data,
        {"feeds", "topics", "watchlists", "alerts", "fetch", "schedule", "stories", "extract", "database"},
        "",
    )
    feeds = tuple(_parse_feeds(r, data.get("feeds", [])))
    topics = tuple(_parse_topics(r, data.get("topics", [])))
    watchlists = tuple(_parse_watchlists(r, data.get("watchlists", []), {t.name for t in topics}))
    alerts = _parse_alerts(r, data.get("alerts", {}))
    fetch = _parse_fetch(r, data.get("fetch", {}))
    schedule = _parse_schedule(r, data.get("schedule", {}))
    stories = _parse_stories(r, data.get("stories", {}))
    extract = _parse_extract(r, data.get("extract", {}))
    database = r.typed(data, "database", str, "", DEFAULT_DB_PATH)
    return Settings(
        feeds=feeds,
        topics=topics,
        watchlists=watchlists,
        alerts=alerts,
        fetch=fetch,
        schedule=schedule,
        stories=stories,
        extract=extract,
        database=database,
        source=path,
        is_demo=is_demo,
    )


def _array_of_tables(r: _Reader, value: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ConfigError(r.path, key, f"expected an array of tables ([[{key}]]), got {_type_name(value)}")
    return [r.table(item, f"{key}[{i}]") for i, item in enumerate(value)]


def _parse_feeds(r: _Reader, value: Any) -> list[FeedConfig]:
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, table in enumerate(_array_of_tables(r, value, "feeds")):
        prefix = f"feeds[{i}]"
        r.check_keys(table, {"name", "url", "interval_minutes", "category"}, prefix)
        url = r.http_url(r.typed(table, "url", str, prefix, required=True), f"{prefix}.url")
        interval = r.number(table, "interval_minutes", (int, float), prefix)
        name = r.typed(table, "name", str, prefix) or urlsplit(url).hostname or url
        if url in seen:
            raise ConfigError(r.path, f"{prefix}.url", f"duplicate feed URL {url!r}")
        seen.add(url)
        category = r.typed(table, "category", str, prefix)
        feeds.append(FeedConfig(name=name, url=url, interval_minutes=interval, category=category))
    return feeds


def _parse_topics(r: _Reader, value: Any) -> list[TopicConfig]:

    topics: list[TopicConfig] = []
    names: set[str] = set()
    for i, table in enumerate(_array_of_tables(r, value, "topics")):
        prefix = f"topics[{i}]"
        r.check_keys(table, {"name", "query", "mode", "languages", "min_interval_minutes"}, prefix)
        name = r.typed(table, "name", str, prefix, required=True).strip()
        query = r.typed(table, "query", str, prefix, required=True).strip()
        mode = r.typed(table, "mode", str, prefix, "new_story")
        if not name:
            raise ConfigError(r.path, f"{prefix}.name", "topic name is empty")
        if name in names:
            raise ConfigError(r.path, f"{prefix}.name", f"duplicate topic name {name!r}")
        if mode not in TOPIC_MODES:
            raise ConfigError(
                r.path, f"{prefix}.mode", f"unknown mode {mode!r} (use {', '.join(TOPIC_MODES)})"
            )
        problem = check_fts_query(query)
        if problem:
            raise ConfigError(r.path, f"{prefix}.query", f"topic {name!r}: invalid query: {problem}")
        languages = r.typed(table, "languages", list, prefix, [])
        if not all(isinstance(code, str) and declared_language(code) == code.lower() for code in languages):
            raise ConfigError(
                r.path, f"{prefix}.languages", 'expected language codes such as ["en", "de", "ja"]'
            )
        interval = r.number(table, "min_interval_minutes", (int, float), prefix, 60)
        names.add(name)
        topics.append(
            TopicConfig(
                name=name,
                query=query,
                mode=mode,
                languages=tuple(c.lower() for c in languages),
                min_interval_minutes=float(interval),
            )
        )
    return topics


def _parse_watchlists(r: _Reader, value: Any, topic_names: set[str]) -> list[WatchlistConfig]:
    """Each list's file must be there and readable now: a run must not find out at its end."""
    lists: list[WatchlistConfig] = []
    names: set[str] = set()
    for i, table in enumerate(_array_of_tables(r, value, "watchlists")):
        prefix = f"watchlists[{i}]"
        r.check_keys(table, {"name", "path", "format"}, prefix)
        name = r.typed(table, "name", str, prefix, required=True).strip()
        raw_path = r.typed(table, "path", str, prefix, required=True)
        list_format = r.typed(table, "format", str, prefix, required=True)
        if not name or name in names or name in topic_names:
            raise ConfigError(r.path, f"{prefix}.name", f"watchlist name {name!r} is empty or already used")
        if list_format not in WATCHLIST_FORMATS:
            raise ConfigError(
                r.path,
                f"{prefix}.format",
                f"unknown format {list_format!r} (use {', '.join(WATCHLIST_FORMATS)})",
            )
        path = Path(raw_path).expanduser()
        if not path.is_absolute():  # relative to the config file, as a user reads it
            path = Path(r.path).resolve().parent / path
        if not path.is_file() or not os.access(path, os.R_OK):
            why = "does not exist" if not path.exists() else "is not a readable file"
            raise ConfigError(r.path, f"{prefix}.path", f"watchlist {path} {why}")
        names.add(name)
        lists.append(WatchlistConfig(name=name, path=str(path), format=list_format))
    return lists


def _parse_alerts(r: _Reader, value: Any) -> AlertSettings:
    table = r.table(value, "alerts")
    r.check_keys(table, {"urls", "webhooks", "max_attempts", "review_url"}, "alerts")
    urls = r.typed(table, "urls", list, "alerts", [])
    for i, url in enumerate(urls):
        key = f"alerts.urls[{i}]"
        if not isinstance(url, str):
            raise ConfigError(r.path, key, f"expected a string, got {_type_name(url)}")
        if "://" not in url or not url.split("://", 1)[0]:
            raise ConfigError(r.path, key, f"malformed Apprise URL {mask_url(url)!r} (need scheme://...)")
    webhooks = []
    for i, hook in enumerate(_array_of_tables(r, table.get("webhooks", []), "alerts.webhooks")):
        prefix = f"alerts.webhooks[{i}]"
        r.check_keys(hook, {"url", "secret"}, prefix)
        url = r.http_url(r.typed(hook, "url", str, prefix, required=True), f"{prefix}.url")
        webhooks.append(WebhookConfig(url=url, secret=r.typed(hook, "secret", str, prefix)))
    max_attempts = r.number(table, "max_attempts", int, "alerts", 8)
    review_url = r.typed(table, "review_url", str, "alerts")
    review_url = r.http_url(review_url, "alerts.review_url").rstrip("/") if review_url else None
    return AlertSettings(
        urls=tuple(urls),
        webhooks=tuple(webhooks),
        max_attempts=max_attempts,
        **({"review_url": review_url} if review_url else {}),
    )


def _parse_fetch(r: _Reader, value: Any) -> FetchSettings:
    table = r.table(value, "fetch")
    d = FetchSettings()
    number = (int, float)
    allowed = {
        "connect_timeout_s",
        "read_timeout_s",
        "total_timeout_s",
        "max_feed_bytes",
        "max_page_bytes",
        "max_redirects",
        "concurrency",
        "per_host_concurrency",
        "allow_private_networks",
        "allowed_hosts",
        "proxy",
        "user_agent",
    }
    r.check_keys(table, allowed, "fetch")
    hosts = r.typed(table, "allowed_hosts", list, "fetch", [])
    for i, host in enumerate(hosts):
        if not isinstance(host, str) or not host or "/" in host:
            raise ConfigError(r.path, f"fetch.allowed_hosts[{i}]", f"expected a host name, got {host!r}")
    settings = FetchSettings(
        connect_timeout_s=float(r.number(table, "connect_timeout_s", number, "fetch", d.connect_timeout_s)),
        read_timeout_s=float(r.number(table, "read_timeout_s", number, "fetch", d.read_timeout_s)),
        total_timeout_s=float(r.number(table, "total_timeout_s", number, "fetch", d.total_timeout_s)),
        max_feed_bytes=r.number(table, "max_feed_bytes", int, "fetch", d.max_feed_bytes),
        max_page_bytes=r.number(table, "max_page_bytes", int, "fetch", d.max_page_bytes),
        max_redirects=r.number(table, "max_redirects", int, "fetch", d.max_redirects),
        concurrency=r.number(table, "concurrency", int, "fetch", d.concurrency),
        per_host_concurrency=r.number(table, "per_host_concurrency", int, "fetch", d.per_host_concurrency),
        allowed_hosts=frozenset(h.lower() for h in hosts),
        allow_private_networks=r.typed(
            table, "allow_private_networks", bool, "fetch", d.allow_private_networks
        ),
        proxy=r.typed(table, "proxy", str, "fetch", d.proxy),
        user_agent=r.typed(table, "user_agent", str, "fetch", d.user_agent),
    )
    if settings.proxy:
        r.http_url(settings.proxy, "fetch.proxy")
    return settings


def _parse_schedule(r: _Reader, value: Any) -> ScheduleSettings:
    table = r.table(value, "schedule")
    r.check_keys(table, {"interval_minutes", "cron", "timezone"}, "schedule")
    cron = r.typed(table, "cron", str, "schedule")
    interval = r.number(table, "interval_minutes", (int, float), "schedule")
    timezone = r.typed(table, "timezone", str, "schedule", "UTC")
    if cron and interval:
        raise ConfigError(r.path, "schedule", "set interval_minutes or cron, not both")
    if cron is not None:
        try:
            CronSim(cron, datetime.now())
        except CronSimError as exc:
            raise ConfigError(r.path, "schedule.cron", f"invalid cron expression {cron!r}: {exc}") from None
    try:
        ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(r.path, "schedule.timezone", f"unknown time zone {timezone!r}") from None
    return ScheduleSettings(
        interval_minutes=None if cron else float(interval or DEFAULT_INTERVAL_MINUTES),
        cron=cron,
        timezone=timezone,
    )


def _parse_stories(r: _Reader, value: Any) -> StorySettings:
    table = r.table(value, "stories")
    r.check_keys(table, {"window_days"}, "stories")
    window = r.number(table, "window_days", (int, float), "stories", DEFAULT_STORY_WINDOW_DAYS)
    return StorySettings(window_days=float(window))


def _parse_extract(r: _Reader, value: Any) -> ExtractSettings:
    table = r.table(value, "extract")
    r.check_keys(table, {"workers"}, "extract")
    workers = r.number(table, "workers", int, "extract", 0)
    return ExtractSettings(workers=workers)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "an array",
        dict: "a table",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in _as_tuple(kind)))


def _type_name(value: Any) -> str:
    return (
        _kind_name(type(value))
        if type(value) in (str, int, float, bool, list, dict)
        else type(value).__name__
    )
