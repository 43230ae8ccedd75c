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


JA_PANEL = (
    "国連安全保障理事会は火曜日、北朝鮮に対する制裁の監視を続ける専門家パネルの任期延長を採決した。"
    "ロシアが拒否権を行使し、決議案は否決された。専門家パネルは二〇〇九年から活動しており、石油の海上での"
    "受け渡しや武器取引について報告してきた。米国と韓国は採決の結果に失望を表明し、日本政府も遺憾の意を示した。"
)
JA_TYPHOON = (
    "大型の台風十号は水曜日、九州南部に上陸し、鹿児島県と宮崎県で激しい雨を降らせた。気象庁は土砂災害や"
    "河川の氾濫に厳重な警戒を呼びかけている。交通機関にも影響が広がり、新幹線は一部区間で運転を見合わせた。"
    "停電は両県で合わせて十万戸を超え、電力会社が復旧作業を急いでいる。"
)
ZH_PANEL = (
    "联合国安理会周二就延长负责监督对朝鲜制裁的专家小组任期进行表决。俄罗斯投了否决票，决议草案未获通过。"
    "该专家小组自二〇〇九年以来一直在运作，曾就海上石油转运和武器交易提交报告。美国和韩国对表决结果表示失望。"
)
ZH_HARVEST = (
    "今年秋季全国粮食总产量再创新高，东北地区玉米和大豆喜获丰收。农业部门表示，良种推广和农机作业水平提高"
    "是增产的主要原因。多地粮食收购价格保持稳定，农民收入持续增长，冬小麦播种工作也已基本完成。"
)
KO_PANEL = (
    "유엔 안전보장이사회는 화요일 북한에 대한 제재 이행을 감시하는 전문가 패널의 "
    "임기 연장안을 표결에 부쳤다. 러시아가 거부권을 행사해 결의안은 부결됐다. 전문가 "
    "패널은 2009년부터 활동하며 해상 유류 환적과 무기 거래에 관한 보고서를 내왔다. "
    "미국과 한국은 표결 결과에 유감을 표명했다."
)


def test_cjk_copies_and_light_edits_are_one_story_and_different_stories_are_not(tmp_path: Path) -> None:
    """Japanese and Chinese are written without spaces, Korean words carry their particles: their
    runs are read as character pairs, so copies and light edits meet and other stories do not."""
    from wirewatch.records import NewArticle

    edited = (
        JA_PANEL.replace("火曜日", "二十八日")
        + "外交筋によると、今後は別の監視の枠組みが検討される見通しだ。"
    )
    texts = {
        "ja-a": ("安保理、北朝鮮制裁パネルの延長を否決", JA_PANEL),
        "ja-copy": ("安保理、北朝鮮制裁パネルの延長を否決", JA_PANEL),
        "ja-edit": ("北朝鮮制裁の専門家パネル、延長否決", edited),
        "ja-other": ("台風十号が九州に上陸", JA_TYPHOON),
        "zh-a": ("安理会否决延长朝鲜制裁专家小组任期", ZH_PANEL),
        "zh-copy": ("安理会否决延长朝鲜制裁专家小组任期", ZH_PANEL),
        "zh-other": ("全国粮食总产量再创新高", ZH_HARVEST),
        "ko-a": ("안보리, 대북제재 전문가 패널 연장 부결", KO_PANEL),
        "ko-copy": ("안보리 대북제재 전문가패널 연장안 부결", KO_PANEL),
    }
    store = open_store(tmp_path / "w.db")
    articles = [
        NewArticle(url=f"https://{key}.example/1", source=key, title=title, text=text, published=NOW)
        for key, (title, text) in texts.items()
    ]
    commit_articles(articles, store, load_index(store), (), AlertSettings(), NOW)
    cluster = {a.url.split("/")[2].removesuffix(".example"): a.cluster_id for a in store.articles.listing()}
    assert cluster["ja-a"] == cluster["ja-copy"] == cluster["ja-edit"]
    assert cluster["zh-a"] == cluster["zh-copy"]
    assert cluster["ko-a"] == cluster["ko-copy"]
    assert len({cluster["ja-a"], cluster["ja-other"], cluster["zh-other"]}) == 3
    assert cluster["ja-other"] != cluster["zh-a"] and cluster["zh-other"] != cluster["ko-a"]


def test_search_and_topics_find_cjk_words_of_two_or_more_characters(tmp_path: Path) -> None:
    """FTS5 takes a run of CJK characters for one word: 制裁 inside 北朝鮮に対する制裁 was never found.
    A second index holds each run as its character pairs, and a query's runs become phrases."""
    from wirewatch.records import NewArticle

    db = tmp_path / "w.db"
    store = open_store(db)
    articles = [
        NewArticle(url=f"https://{k}.example/1", source=k, title=t, text=x, published=NOW)
        for k, t, x in (
            ("ja", "安保理、北朝鮮制裁パネルの延長を否決", JA_PANEL),
            ("zh", "全国粮食总产量再创新高", ZH_HARVEST),
            ("ko", "안보리, 대북제재 전문가 패널 연장 부결", KO_PANEL),
            ("en", "Council vetoes sanctions panel", ENGLISH),
        )
    ]
    topics = (
        TopicConfig("nk-ja", "北朝鮮 AND 制裁"),
        TopicConfig("harvest", '"粮食" AND 玉米'),
        TopicConfig("nk-ko", "북한 AND 거부권"),
    )
    commit_articles(articles, store, load_index(store), topics, AlertSettings(), NOW)
    matched = dict(store.db.execute("SELECT topic, COUNT(*) FROM topic_matches GROUP BY topic").fetchall())
    assert matched == {"nk-ja": 1, "harvest": 1, "nk-ko": 1}

    def found(query: str) -> list[str]:
        done = CliRunner().invoke(main, ["search", query, "--db", str(db), "--json"])
        assert done.exit_code == 0, done.output
        return sorted(a["source"] for c in json.loads(done.stdout) for a in c["articles"])

    assert found("制裁") == ["ja"]
    assert found("北朝鮮") == ["ja"]
    assert found("제재") == ["ko"]  # inside 대북제재 and 제재
    assert found("粮食 OR 制裁") == ["ja", "zh"]
    assert found("sanctions") == ["en"]  # English as before (porter: sanctions, sanctioned)
    store.close()


RUSSIAN = (
    "Совет Безопасности ООН во вторник обсудил санкции против КНДР. Россия заблокировала продление "
    "мандата группы экспертов, которая следила за соблюдением санкций, и заявила, что санкциями "
    "проблему не решить. США и Южная Корея выразили сожаление. "
)


def test_inflected_words_are_found_by_their_stem_in_the_articles_language(tmp_path: Path) -> None:
    """Porter stems English only: "Sanktion" missed "Sanktionen". Articles in other languages
    with a Snowball stemmer are also indexed by their stems, and queries looked up the same way."""
    from wirewatch.records import NewArticle

    db = tmp_path / "w.db"
    store = open_store(db)
    articles = [
        NewArticle(url=f"https://{k}.example/1", source=k, title=t, text=x, published=NOW, language=k)
        for k, t, x in (
            ("de", "Sicherheitsrat berät über Nordkorea", GERMAN),
            ("ru", "Совбез ООН обсудил КНДР", RUSSIAN),
            ("en", "Council vetoes sanctions panel", ENGLISH),
        )
    ]
    topics = (TopicConfig("de", "Sanktion AND Nordkorea"), TopicConfig("ru", "санкция AND КНДР"))
    commit_articles(articles, store, load_index(store), topics, AlertSettings(), NOW)
    matched = dict(store.db.execute("SELECT topic, COUNT(*) FROM topic_matches GROUP BY topic").fetchall())
    assert matched == {"de": 1, "ru": 1}

    def found(query: str) -> list[str]:
        done = CliRunner().invoke(main, ["search", query, "--db", str(db), "--json"])
        assert done.exit_code == 0, done.output
        return sorted(a["source"] for c in json.loads(done.stdout) for a in c["articles"])

    assert found("Sanktion") == ["de"]  # "Sanktionen" in the text
    assert found("санкция") == ["ru"]  # "санкции", "санкций", "санкциями"
    assert found('"Vereinte Nation"') == ["de"]  # a phrase, each word by its stem
    assert found("sanction") == ["en"]  # English through Porter, as before
    store.close()
