"""Atom feeds of a topic and OPML feed lists, through the library and the CLI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from tests.conftest import write_config
from tests.test_web import (
    NK_OIL,
    NK_SECOND_SEIZURE,
    NK_SEIZURE,
    NOW,
    TOPICS,
    build_demo_store,
    demo_articles,
)
from wirewatch.cli import main
from wirewatch.config import load_settings
from wirewatch.exports.atom import cluster_entry_id, render_atom
from wirewatch.exports.opml import parse_opml, toml_string
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.settings import AlertSettings
from wirewatch.store import open_store

NESTED_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions from FreshRSS</title></head>
  <body>
    <outline text="World">
      <outline text="Meridian Press" type="rss" xmlUrl="https://meridian.example/rss.xml"
               htmlUrl="https://meridian.example/"/>
      <outline text="Asia">
        <outline title="Harbor &quot;Daily&quot; \\ Asia" text="Harbor" type="rss"
                 xmlUrl="https://harbor.example/asia.xml"/>
      </outline>
    </outline>
    <outline text="Tech">
      <outline text="Meridian again" type="rss" xmlUrl="https://meridian.example/rss.xml"/>
      <outline text="Already configured" type="rss" xmlUrl="https://known.example/feed"/>
      <outline text="Gazette Ω" type="rss" xmlUrl="http://gazette.example/feed?x=1&amp;y=2"/>
      <outline text="Podcast" type="rss" xmlUrl="ftp://pods.example/feed.xml"/>
      <outline text="Bookmark without feed" type="link" url="https://example.com/page"/>
    </outline>
  </body>
</opml>
"""
USER_CONFIG = """# my feeds, kept by hand
database = "news.db"

[[feeds]]
name = "Known"
url = "https://known.example/feed"   # the one I read first

[fetch]
concurrency = 4
"""


def _invoke(args: list[str], ok: bool = True) -> Result:
    result = CliRunner().invoke(main, args)
    assert (result.exit_code == 0) == ok, result.output
    return result


def _feeds(config: Path) -> list[tuple[str, str]]:
    return [(f.name, f.url) for f in load_settings(str(config)).feeds]


# --- Atom ------------------------------------------------------------------------------------


def test_topic_atom_is_valid_with_one_entry_per_story(tmp_path: Path) -> None:
    db = build_demo_store(tmp_path / "demo.db")
    out = tmp_path / "nk.atom"
    result = _invoke(["export", "atom", "--topic", "nk-sanctions", "--db", str(db), "--output", str(out)])
    assert result.stdout == ""
    feed = feedparser.parse(out.read_text(encoding="utf-8"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == "urn:wirewatch:topic:nk-sanctions"
    titles = [e.title for e in feed.entries]
    assert titles == [
        "Second tanker held at Busan in widening North Korea fuel inquiry",
        "South Korea seizes tanker suspected of breaching North Korea sanctions",
        "UN experts say North Korea evaded oil cap through ship-to-ship transfers at sea",
    ]
    oil = feed.entries[2]
    assert oil.id.startswith("urn:wirewatch:cluster:")
    assert oil.updated == "2026-11-20T07:45:00Z" and oil.published == "2026-11-19T08:30:00Z"
    assert oil.link.endswith("meridian/nk-oil-transfers.html")  # the first article
    assert "4 sources, 4 articles" in oil.summary
    for outlet in ("Meridian Press", "Harbor Daily", "The Capital Ledger", "Northern Gazette"):
        assert outlet in oil.summary
    assert [t.term for t in oil.tags] == ["nk-sanctions"]


def test_an_entry_keeps_its_id_and_moves_its_updated_as_sources_join(tmp_path: Path) -> None:
    store = open_store(tmp_path / "grow.db")
    index = load_index(store)
    first, rewrite = demo_articles("harbor/port-strike"), demo_articles("capital/saltmere-port-walkout")
    commit_articles(first, store, index, TOPICS, AlertSettings(), NOW)
    before = feedparser.parse(render_atom("port-strike", store.clusters.listing("port-strike"), NOW)).entries
    commit_articles(rewrite, store, index, TOPICS, AlertSettings(), NOW)
    after = feedparser.parse(render_atom("port-strike", store.clusters.listing("port-strike"), NOW)).entries
    store.close()
    assert len(before) == len(after) == 1
    assert before[0].id == after[0].id
    assert after[0].updated > before[0].updated
    assert "1 source," in before[0].summary and "2 sources," in after[0].summary


def test_atom_export_prints_to_stdout_and_refuses_unknown_topics(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[topics]]\nname = "quiet"\nquery = "nothing*"\n')
    db = str(tmp_path / "empty.db")
    empty = feedparser.parse(
        _invoke(["export", "atom", "--topic", "quiet", "--config", str(config), "--db", db]).stdout
    )
    assert not empty.bozo and empty.entries == [] and empty.feed.title == "wirewatch: quiet"
    result = _invoke(["export", "atom", "--topic", "nope", "--config", str(config), "--db", db], ok=False)
    assert result.output.strip().splitlines()[-1] == (
        f"Error: no topic named 'nope' in {config} and no stored matches"
    )


def test_a_muted_story_leaves_the_atom_feed(tmp_path: Path) -> None:
    db = build_demo_store(tmp_path / "muted.db")
    store = open_store(db)
    seizure = next(c for c in store.clusters.listing("nk-sanctions") if c.headline == NK_SEIZURE)
    store.review.set_muted(seizure.id, True, NOW)  # what the review page's Mute button does
    store.close()
    xml = _invoke(["export", "atom", "--topic", "nk-sanctions", "--db", str(db)]).stdout
    feed = feedparser.parse(xml)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [NK_SECOND_SEIZURE, NK_OIL]
    assert cluster_entry_id(seizure.id) not in xml and NK_SEIZURE not in xml
    assert all(a.url not in xml for a in seizure.articles)
    listed = _invoke(["clusters", "--topic", "nk-sanctions", "--db", str(db), "--json"]).stdout
    assert NK_SEIZURE in listed  # muting hides the story from the feed, not from the store


# --- OPML ------------------------------------------------------------------------------------


def test_import_keeps_folders_skips_duplicates_and_reports_bad_entries(tmp_path: Path) -> None:
    config = write_config(tmp_path, USER_CONFIG)
    opml = tmp_path / "subs.opml"
    opml.write_text(NESTED_OPML, encoding="utf-8")
    result = _invoke(["feeds", "import", str(opml), "--config", str(config)])
    lines = result.stdout.splitlines()
    assert "skipped 'Podcast': not an http(s) feed URL: ftp://pods.example/feed.xml" in lines
    assert "skipped 'Bookmark without feed': no xmlUrl" in lines
    assert lines[-1] == f"3 added, 2 already present or repeated, 2 bad entries skipped: {config}"
    assert _feeds(config) == [
        ("Known", "https://known.example/feed"),
        ("Meridian Press", "https://meridian.example/rss.xml"),
        ('Harbor "Daily" \\ Asia', "https://harbor.example/asia.xml"),
        ("Gazette Ω", "http://gazette.example/feed?x=1&y=2"),
    ]
    categories = [f.category for f in load_settings(str(config)).feeds]
    assert categories == [None, "World", "Asia", "Tech"]  # the innermost folder of each
    text = config.read_text(encoding="utf-8")
    assert text.startswith(USER_CONFIG)  # the user's file, comments and all, is untouched
    assert load_settings(str(config)).fetch.concurrency == 4

    again = _invoke(["feeds", "import", str(opml), "--config", str(config)])
    assert (
        again.stdout.splitlines()[-1]
        == f"0 added, 5 already present or repeated, 2 bad entries skipped: {config}"
    )
    assert config.read_text(encoding="utf-8") == text


def test_the_folder_shows_as_the_category_in_feeds_and_survives_export(tmp_path: Path) -> None:
    config = tmp_path / "cats.toml"
    opml = tmp_path / "subs.opml"
    opml.write_text(NESTED_OPML, encoding="utf-8")
    _invoke(["feeds", "import", str(opml), "--config", str(config)])
    db = tmp_path / "cats.db"
    store = open_store(db)
    store.feeds.states([("https://harbor.example/asia.xml", "Harbor")])  # as a run records it
    store.close()
    listed = _invoke(["feeds", "--config", str(config), "--db", str(db), "--json"]).stdout
    assert [(f["url"], f["category"]) for f in json.loads(listed)] == [
        ("https://harbor.example/asia.xml", "Asia")
    ]
    table = _invoke(["feeds", "--config", str(config), "--db", str(db)]).stdout.splitlines()
    assert table[0].split()[:3] == ["name", "category", "url"]
    assert table[-1].split()[:3] == ["Harbor", "Asia", "https://harbor.example/asia.xml"]
    exported = _invoke(["feeds", "export", "--config", str(config)]).stdout
    again = parse_opml(exported)[0]
    assert [(f.url, f.folder) for f in again] == [
        ("https://meridian.example/rss.xml", "World"),
        ("https://harbor.example/asia.xml", "Asia"),
        ("https://known.example/feed", "Tech"),
        ("http://gazette.example/feed?x=1&y=2", "Tech"),
    ]


def test_import_export_import_gives_the_same_feeds(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(NESTED_OPML, encoding="utf-8")
    first = tmp_path / "first.toml"
    _invoke(["feeds", "import", str(opml), "--config", str(first)])
    exported = tmp_path / "exported.opml"
    _invoke(["feeds", "export", "--config", str(first), "--output", str(exported)])
    second = tmp_path / "second.toml"
    _invoke(["feeds", "import", str(exported), "--config", str(second)])
    assert _feeds(first) == _feeds(second)
    assert len(_feeds(second)) == 4
    printed = _invoke(["feeds", "export", "--config", str(second)]).stdout
    assert printed.startswith('<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">')
    assert 'xmlUrl="http://gazette.example/feed?x=1&amp;y=2"' in printed


def test_import_without_config_writes_wirewatch_toml_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)
    opml = tmp_path / "subs.opml"
    opml.write_text(NESTED_OPML, encoding="utf-8")
    result = _invoke(["feeds", "import", str(opml)])
    assert result.stdout.splitlines()[-1].endswith(": wirewatch.toml")
    assert len(_feeds(tmp_path / "wirewatch.toml")) == 4


def test_opml_with_a_doctype_is_refused_before_anything_expands(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.example/&b;"/></body></opml>\n',
        encoding="utf-8",
    )
    config = write_config(tmp_path, USER_CONFIG)
    result = _invoke(["feeds", "import", str(bomb), "--config", str(config)], ok=False)
    assert (
        result.output.strip() == f"Error: {bomb}: refusing a DOCTYPE or ENTITY declaration (OPML needs none)"
    )
    assert config.read_text(encoding="utf-8") == USER_CONFIG
    # However it is encoded: expat reads the declaration in the file's own encoding.
    with pytest.raises(Exception, match="DOCTYPE"):
        parse_opml('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x><opml/>'.encode("utf-16"))


def test_files_that_are_not_opml_stop_with_one_line(tmp_path: Path) -> None:
    rss = tmp_path / "feed.xml"
    rss.write_text("<rss><channel/></rss>", encoding="utf-8")
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline></body>", encoding="utf-8")
    assert _invoke(["feeds", "import", str(rss), "--config", str(tmp_path / "c.toml")], ok=False).output == (
        f"Error: {rss}: not OPML: the root element is <rss>\n"
    )
    result = _invoke(["feeds", "import", str(broken), "--config", str(tmp_path / "c.toml")], ok=False)
    assert result.output.startswith(f"Error: {broken}: not well-formed XML: mismatched tag, line 1")
    assert not (tmp_path / "c.toml").exists()


def test_a_config_the_new_tables_would_break_is_left_as_it_was(tmp_path: Path) -> None:
    # An inline `feeds = []` cannot be followed by [[feeds]] tables: TOML rejects the result.
    original = "feeds = []\n\n[fetch]\nconcurrency = 2\n"
    config = write_config(tmp_path, original)
    opml = tmp_path / "subs.opml"
    opml.write_text(NESTED_OPML, encoding="utf-8")
    result = _invoke(["feeds", "import", str(opml), "--config", str(config)], ok=False)
    assert result.output.startswith(f"Error: {config}: invalid TOML")
    assert config.read_text(encoding="utf-8") == original


def test_toml_strings_survive_quotes_backslashes_and_control_characters() -> None:
    for value in ["plain", 'say "hi"', "back\\slash", "tab\tnew\nline", "bell\x07", "Ω 新闻"]:
        assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_plain_feeds_still_lists_feed_state(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    store = open_store(db)
    store.feeds.states([("https://down.test/rss", "Broken Feed")])
    store.close()
    config = write_config(tmp_path, USER_CONFIG)
    result = _invoke(["feeds", "--config", str(config), "--db", str(db)])
    assert "Broken Feed" in result.stdout and "https://down.test/rss" in result.stdout
