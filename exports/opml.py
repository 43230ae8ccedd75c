"""OPML feed lists in and out: the format Miniflux, FreshRSS, Inoreader and NewsBlur export.

Import keeps each feed's folder as its `category` (the innermost folder, when they nest), skips
feeds already configured or repeated, and reports each unusable outline in one line naming it.
The config file is only ever appended to, so the user's comments and layout survive, and it is
validated again after writing.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.parsers import expat

from wirewatch.config import load_settings
from wirewatch.errors import OpmlError, WirewatchError
from wirewatch.settings import CONFIG_ENV_VAR, FeedConfig

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    name: str
    url: str
    folder: str | None = None


@dataclass
class ImportPlan:
    """What an import will do: feeds to add, and one line per outline it leaves out."""

    added: list[OpmlFeed] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_opml(path: Path) -> tuple[list[OpmlFeed], list[str]]:
    """Feeds of an OPML file in document order (folders flattened), and its unusable outlines."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(str(path), f"cannot read file ({exc.strerror})") from exc
    return parse_opml(data, str(path))


def parse_opml(data: bytes | str, origin: str = "<opml>") -> tuple[list[OpmlFeed], list[str]]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    _refuse_declarations(raw, origin)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise OpmlError(origin, f"not well-formed XML: {exc}") from exc
    if root.tag != "opml":
        raise OpmlError(origin, f"not OPML: the root element is <{root.tag}>")
    body = root.find("body")
    if body is None:
        raise OpmlError(origin, "not OPML: no <body>")
    feeds: list[OpmlFeed] = []
    problems: list[str] = []
    for outline, folder in _outlines(body, None):
        label = _label(outline) or "(untitled)"
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            if len(outline) == 0:  # a folder with children is fine; an empty leaf names no feed
                problems.append(f"skipped {label!r}: no xmlUrl")
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"skipped {label!r}: not an http(s) feed URL: {url}")
            continue
        feeds.append(OpmlFeed(name=_label(outline) or parts.hostname or url, url=url, folder=folder))
    return feeds, problems


def _refuse_declarations(raw: bytes, origin: str) -> None:
    """Stop at a DOCTYPE or ENTITY declaration, before anything is expanded.

    Entity declarations let a few bytes expand into gigabytes or pull in local files; OPML needs
    none. Expat reads the file's own encoding, so no re-encoding can hide a declaration.
    """

    def refuse(*_: object) -> None:
        raise OpmlError(origin, "refusing a DOCTYPE or ENTITY declaration (OPML needs none)")

    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = refuse
    scanner.EntityDeclHandler = refuse
    try:
        scanner.Parse(raw, True)
    except expat.ExpatError as exc:
        reason = f"not well-formed XML: {expat.ErrorString(exc.code)}, line {exc.lineno}"
        raise OpmlError(origin, reason) from exc


def _outlines(parent: ET.Element, folder: str | None) -> Iterator[tuple[ET.Element, str | None]]:
    """Every outline under `parent` in document order, with the folder it sits in. A stack of
    the open levels, not recursion: a file may nest outlines deeper than Python's call stack."""
    levels = [(iter(parent.findall("outline")), folder)]
    while levels:
        children, folder = levels[-1]
        outline = next(children, None)
        if outline is None:
            levels.pop()
            continue
        yield outline, folder
        if len(outline):
            inner = folder if outline.get("xmlUrl") else _label(outline) or folder
            levels.append((iter(outline.findall("outline")), inner))


def _label(outline: ET.Element) -> str:
    return " ".join((outline.get("title") or outline.get("text") or "").split())


def import_opml(opml: Path, config: Path) -> ImportPlan:
    """Add an OPML file's new feeds to a config file; the plan says what was added and left out.

    A config that does not load is never appended to: its error is raised first.
    """
    feeds, problems = read_opml(opml)
    existing = {f.url for f in load_settings(str(config)).feeds} if config.exists() else set()
    plan = plan_import(feeds, existing)
    plan.problems.extend(problems)
    if plan.added:
        append_feeds(config, plan.added)
    return plan


def config_file_for_writing(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The config an import writes to: --config, else $WIREWATCH_CONFIG, else ./wirewatch.toml
    (created when missing). Never the bundled demo config, which other commands fall back to."""
    env = os.environ if env is None else env
    return Path(explicit or env.get(CONFIG_ENV_VAR) or "wirewatch.toml")


def plan_import(feeds: Sequence[OpmlFeed], existing_urls: set[str]) -> ImportPlan:
    plan = ImportPlan()
    seen = set(existing_urls)
    for feed in feeds:
        if feed.url in seen:
            plan.duplicates.append(feed.url)
            continue
        seen.add(feed.url)
        plan.added.append(feed)
    return plan


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def feed_tables(feeds: Sequence[OpmlFeed]) -> str:
    return "".join(_feed_table(f) for f in feeds)


def _feed_table(feed: OpmlFeed) -> str:
    table = f"\n[[feeds]]\nname = {toml_string(feed.name)}\nurl = {toml_string(feed.url)}\n"
    return table + (f"category = {toml_string(feed.folder)}\n" if feed.folder else "")


def append_feeds(config: Path, feeds: Sequence[OpmlFeed]) -> None:
    """Append `[[feeds]]` tables to the config file, then load it again; on a load error the file
    is put back as it was and the error raised."""
    try:
        before = config.read_text(encoding="utf-8") if config.exists() else None
    except OSError as exc:
        raise OpmlError(str(config), f"cannot read config file ({exc.strerror})") from exc
    text = before or "# wirewatch configuration (feeds imported from OPML)\n"
    if not text.endswith("\n"):
        text += "\n"
    _write_atomically(config, text + feed_tables(feeds))
    try:
        load_settings(str(config))
    except WirewatchError:
        if before is None:
            config.unlink()
        else:
            _write_atomically(config, before)
        raise


def _write_atomically(path: Path, text: str) -> None:
    # A crash while writing must not leave half a config: write beside it, then rename over it.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OpmlError(str(path), f"cannot write config file ({exc.strerror})") from exc


def render_opml(feeds: Sequence[FeedConfig], now: datetime, title: str = "wirewatch feeds") -> str:
    """OPML 2.0 of the configured feeds: those with a category in a folder of that name (in the
    order categories first appear), the others at the top level."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.category:
            if feed.category not in folders:
                folders[feed.category] = ET.SubElement(body, "outline", {"text": feed.category})
            parent = folders[feed.category]
        ET.SubElement(
            parent, "outline", {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
