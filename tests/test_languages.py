"""The language of each article: declared by its page or feed, else detected (py3langid, its
model inside its wheel); stored, shown in `articles --json`, and a topic can ask for some only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from wirewatch.cli import main
from wirewatch.config import load_settings
from wirewatch.errors import ConfigError
from wirewatch.fetch.feeds import parse_feed
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import extract_articles
from wirewatch.records import Page
from wirewatch.settings import AlertSettings, TopicConfig
from wirewatch.store import open_store

NOW = datetime(2026, 11, 30, tzinfo=UTC)
GERMAN = (
    "Der Sicherheitsrat der Vereinten Nationen hat am Dienstag über die Sanktionen gegen Nordkorea "
    "beraten. Kim Jong Un ließ erneut Raketen testen, und Diplomaten forderten eine strengere "
    "Kontrolle der Öllieferungen auf hoher See. Russland und China lehnten neue Maßnahmen ab. "
)
ENGLISH = (
    "The United Nations Security Council met on Tuesday to discuss sanctions on North Korea after "
    "Kim Jong Un ordered more missile tests, and diplomats called for closer checks on oil "
    "deliveries at sea. Russia and China opposed any new measures. "
)
JAPANESE = (
    "国連安全保障理事会は火曜日、北朝鮮に対する制裁について協議した。金正恩氏は再びミサイル発射を"
    "命じ、外交官らは海上での石油の受け渡しの監視強化を求めた。ロシアと中国は新たな措置に反対した。"
)


def _page(url: str, body: str, lang: str | None) -> Page:
    declared = f' lang="{lang}"' if lang else ""
    html = f"<html{declared}><body><article><h1>Report</h1><p>{body * 3}</p></article></body></html>"
    return Page(url=url, source=url.split("/")[2], body=html, content_type="text/html")


def test_declared_languages_are_kept_and_the_rest_detected(tmp_path: Path) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>K</title><language>ko-KR</language>'
        "<item><title>안보리, 대북 제재 논의</title><guid isPermaLink='false'>k1</guid>"
        "<description>유엔 안전보장이사회는 화요일 북한에 대한 제재를 논의했다.</description></item>"
        "</channel></rss>"
    )
    entry = parse_feed(feed.encode(), "https://k.example/rss", "K")
    pages = [
        _page("https://de.example/a", GERMAN, "de-CH"),  # declared, with a region
        _page("https://ja.example/a", JAPANESE, None),  # detected
        _page("https://en.example/a", ENGLISH, "en"),
        Page(entry.entries[0].url, "K", "", "", entry=entry.entries[0], error="the feed gives no link"),
    ]
    articles, _ = extract_articles(pages)
    languages = {a.url: a.language for a in articles}
    assert languages == {
        "https://de.example/a": "de",
        "https://ja.example/a": "ja",
        "https://en.example/a": "en",
        entry.entries[0].url: "ko",  # the feed's <language>, for an entry without a link
    }
    db = tmp_path / "w.db"
    store = open_store(db)
    only_german = (TopicConfig("kim-de", "kim", languages=("de",)), TopicConfig("kim", "kim"))
    commit_articles(articles, store, load_index(store), only_german, AlertSettings(), NOW)
    matched = store.db.execute("SELECT topic, COUNT(*) FROM topic_matches GROUP BY topic").fetchall()
    store.close()
    assert dict(matched) == {"kim-de": 1, "kim": 2}  # the English and the German one have "Kim"
    listed = json.loads(CliRunner().invoke(main, ["articles", "--db", str(db), "--json"]).stdout)
    assert sorted(a["language"] for a in listed) == ["de", "en", "ja", "ko"]


@pytest.mark.parametrize("value", ['["english"]', "[1]", '"de"'])
def test_a_topics_languages_must_be_language_codes(tmp_path: Path, value: str) -> None:
    config = tmp_path / "wirewatch.toml"
    config.write_text(f'[[topics]]\nname = "t"\nquery = "kim"\nlanguages = {value}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"topics\[0\]\.languages"):
        load_settings(str(config))
