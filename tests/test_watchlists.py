"""Watchlists: the three list formats, the `watchlist check` command, names found under news
spellings and decoys refused, and the alerts: one per entity and story, on a real SQLite file."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from benchmarks.watchlist_cases import (
    CASES,
    ENTITIES,
    FRESH_CASES,
    FRESH_ENTITIES,
    HELD_OUT_CASES,
    HELD_OUT_ENTITIES,
)
from tests.test_web import call
from wirewatch.cli import main
from wirewatch.config import load_settings
from wirewatch.errors import ConfigError
from wirewatch.flows.commit import commit_articles, deliver_alerts, load_index
from wirewatch.flows.watchlist_screens import screen_of
from wirewatch.records import NewArticle, WatchEntity
from wirewatch.settings import AlertSettings, WebhookConfig
from wirewatch.store import open_store
from wirewatch.watchlists import Screen, load_watchlist
from wirewatch.web import ReviewApp

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
# The SDN list's CSV edition: no header, -0- for empty, Latin-1 in older editions.
SDN = (
    '1001,"KIM, Jong Un",individual,"DPRK3",-0-,-0-,-0-,-0-,-0-,-0-,-0-,"DOB 08 Jan 1984."\n'
    '1004,"KOREA MINING DEVELOPMENT TRADING CORPORATION",-0-,"DPRK",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\n'
    '1011,"JOSÉ MARÍA, Núñez",individual,"SDNT",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\n'
    "not,a,row\n"
    '1005,"OCEAN STAR",vessel,"DPRK4",-0-,-0-,"Oil Tanker",-0-,-0-,"Korea, North",-0-,"IMO 1234567."\n'
)
ALT = '1004,201,"aka","KOMID",-0-\n1001,202,"aka","KIM, Jong-un",-0-\n9999,203,"aka","NOBODY",-0-\n'
FTM = "\n".join(
    [
        json.dumps(
            {
                "id": "NK-abc",
                "schema": "Person",
                "properties": {
                    "name": ["Vassily Nebenzia"],
                    "alias": ["Vasily Nebenzya"],
                    "weakAlias": ["VN"],
                },
            }
        ),
        "{not json",
        json.dumps({"id": "NK-def", "schema": "Vessel", "properties": {}}),
        json.dumps(
            {"id": "NK-ghi", "schema": "Company", "properties": {"name": ["Tango Shipping Company Limited"]}}
        ),
    ]
)
CSV = 'id,name,aliases\nP1,Choe Son Hui,Choe Son-hui;CHOE Son Hui\nP2,,\nP3,"SHOIGU, Sergei",Sergey Shoygu\n'


def write_lists(folder: Path) -> dict[str, Path]:
    (folder / "sdn").mkdir()
    (folder / "sdn" / "sdn.csv").write_bytes(SDN.encode("latin-1"))
    (folder / "sdn" / "alt.csv").write_text(ALT, encoding="utf-8")
    (folder / "people.ftm.json").write_text(FTM, encoding="utf-8")
    (folder / "people.csv").write_text(CSV, encoding="utf-8")
    return {
        "ofac-sdn": folder / "sdn" / "sdn.csv",
        "ftm": folder / "people.ftm.json",
        "csv": folder / "people.csv",
    }


def test_the_three_formats_load_and_report_each_bad_row_with_its_line(tmp_path: Path) -> None:
    lists = write_lists(tmp_path)
    sdn = load_watchlist(lists["ofac-sdn"], "ofac-sdn")
    assert [e.name for e in sdn.entities] == [
        "KIM, Jong Un",
        "KOREA MINING DEVELOPMENT TRADING CORPORATION",
        "JOSÉ MARÍA, Núñez",  # read as Latin-1
        "OCEAN STAR",
    ]
    assert sdn.entities[0].aliases == ("KIM, Jong-un",) and sdn.entities[3].kind == "vessel"
    assert sdn.problems == [
        f"{lists['ofac-sdn']}:4: not an SDN row (ent_num, SDN_Name, SDN_Type, ...)",
        f"{lists['ofac-sdn'].with_name('alt.csv')}:3: alias of ent_num 9999, not in sdn.csv",
    ]
    ftm = load_watchlist(lists["ftm"], "ftm")
    assert [(e.entity_id, e.aliases, e.weak_aliases) for e in ftm.entities] == [
        ("NK-abc", ("Vasily Nebenzya",), ("VN",)),
        ("NK-ghi", (), ()),
    ]
    assert [p.split(": ", 1)[0] for p in ftm.problems] == [f"{lists['ftm']}:2", f"{lists['ftm']}:3"]
    plain = load_watchlist(lists["csv"], "csv")
    assert [(e.entity_id, e.aliases) for e in plain.entities] == [
        ("P1", ("Choe Son-hui", "CHOE Son Hui")),
        ("P3", ("Sergey Shoygu",)),
    ]
    assert plain.problems == [f"{lists['csv']}:3: a row needs an id and a name"]


def test_watchlist_check_prints_names_aliases_and_skipped_rows(tmp_path: Path) -> None:
    lists = write_lists(tmp_path)
    done = CliRunner().invoke(main, ["watchlist", "check", str(lists["ofac-sdn"]), "--format", "ofac-sdn"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{lists['ofac-sdn']}: 4 names, 2 aliases (2 rows skipped)"
    assert f"skipped {lists['ofac-sdn']}:4: not an SDN row" in done.stderr
    as_json = CliRunner().invoke(main, ["watchlist", "check", str(lists["csv"]), "--format", "csv", "--json"])
    assert json.loads(as_json.stdout) == {
        "names": 2,
        "aliases": 3,
        "problems": [f"{lists['csv']}:3: a row needs an id and a name"],
    }
    missing = CliRunner().invoke(main, ["watchlist", "check", str(tmp_path / "nope.csv"), "--format", "csv"])
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1
    assert f"{tmp_path / 'nope.csv'}: cannot read the watchlist" in missing.stderr


@pytest.mark.parametrize(
    ("entities", "cases"),
    [(ENTITIES, CASES), (HELD_OUT_ENTITIES, HELD_OUT_CASES), (FRESH_ENTITIES, FRESH_CASES)],
    ids=["development", "held-out", "fresh"],
)
def test_names_are_found_under_news_spellings_and_decoys_are_not(
    entities: tuple[WatchEntity, ...], cases: tuple[tuple[str, frozenset[str]], ...]
) -> None:
    screen = Screen(entities)
    wrong = []
    for text, gold in cases:
        found = {hit.entity_id for hit in screen.hits("", text)}
        if found != gold:
            wrong.append((text, sorted(found), sorted(gold)))
    assert not wrong


def test_the_sentence_of_a_hit_and_the_listed_spelling_it_matched() -> None:
    screen = Screen(ENTITIES)
    hit = screen.hits("Envoy speaks", "The council met. Ambassador Vasily Nebenzya said no. Then it rained.")[
        0
    ]
    assert (hit.entity_id, hit.matched, hit.sentence) == (
        "1003",
        "NEBENZIA, Vassily Alekseevich",  # the patronymic dropped, as news writes it
        "Ambassador Vasily Nebenzya said no.",
    )


def _config(tmp_path: Path, lists: dict[str, Path], db: Path) -> Path:
    config = tmp_path / "wirewatch.toml"
    config.write_text(
        f'database = "{db}"\n'
        f'[[watchlists]]\nname = "sdn"\npath = "{lists["ofac-sdn"]}"\nformat = "ofac-sdn"\n\n'
        f'[[watchlists]]\nname = "people"\npath = "{lists["csv"].name}"\nformat = "csv"\n',
        encoding="utf-8",
    )
    return config


def _report(n: int, text: str, hours: int) -> NewArticle:
    body = (
        "Diplomats at the United Nations met on Tuesday to discuss the enforcement of sanctions on "
        "Pyongyang, after a panel of experts reported new evidence of oil transfers at sea. "
    )
    return NewArticle(
        url=f"https://wire{n}.example/un-sanctions-{n}",
        source=f"Wire {n}",
        title="UN council clashes over North Korea sanctions enforcement",
        text=body + text + " " + body,
        published=NOW + timedelta(hours=hours),
    )


def test_one_alert_per_entity_and_story_and_the_entities_in_json(tmp_path: Path) -> None:
    lists = write_lists(tmp_path)
    db = tmp_path / "w.db"
    config = _config(tmp_path, lists, db)
    settings = load_settings(str(config))
    screen = screen_of(settings.watchlists, lambda line: None)
    assert screen is not None
    store = open_store(db)
    first = _report(1, "Kim Jong-un approved the launch, and Choe Son Hui flew to Moscow.", 0)
    again = _report(2, "KIM Jong Un approved the launch; Choe Son-hui flew to Moscow.", 1)  # a rewrite
    other = NewArticle(
        url="https://port.example/inquiry",
        source="Port Gazette",
        title="Arms exporter named in port inquiry",
        text=(
            "Customs officers at the harbour opened forty crates declared as mining pumps and found "
            "rocket engine parts. Korea Mining Development Trading, known as KOMID, sold the parts "
            "through a broker in a third country, the inquiry heard on Friday. " * 2
        ),
        published=NOW + timedelta(days=2),
    )
    for article in (first, again, other):
        commit_articles([article], store, load_index(store), (), AlertSettings(), NOW, None, screen=screen)
    store.close()
    alerts = json.loads(CliRunner().invoke(main, ["alerts", "--config", str(config), "--json"]).stdout)
    named = sorted((a["topic"], a["entity"]["id"], a["entity"]["name"], len(a["articles"])) for a in alerts)
    stories = {a["cluster_id"] for a in alerts}
    assert named == [
        ("people", "P1", "Choe Son Hui", 2),  # the rewrite joined the alert
        ("sdn", "1001", "KIM, Jong Un", 2),
        ("sdn", "1004", "KOREA MINING DEVELOPMENT TRADING CORPORATION", 1),
    ]
    assert len(stories) == 2
    clusters = json.loads(CliRunner().invoke(main, ["clusters", "--config", str(config), "--json"]).stdout)
    by_headline = {c["headline"]: c["entities"] for c in clusters}
    council = by_headline["UN council clashes over North Korea sanctions enforcement"]
    assert [(e["list"], e["id"]) for e in council] == [("people", "P1"), ("sdn", "1001")]
    articles = json.loads(CliRunner().invoke(main, ["articles", "--config", str(config), "--json"]).stdout)
    # The review page: entity badges on the story, and a watchlist filters like a topic.
    review = ReviewApp(settings, clock=lambda: NOW + timedelta(days=3))
    people = call(review, "/", {"topic": "people"})
    assert people.headlines() == ["UN council clashes over North Korea sanctions enforcement"]
    assert '<span class="badge entity" title="named in a watchlist">KIM, Jong Un</span>' in people.text
    assert '<option value="sdn"' in call(review, "/").text
    assert [e["matched"] for e in articles[0]["entities"]] == ["Choe Son Hui", "KIM, Jong Un"]  # as listed


def test_a_missing_list_stops_the_config_and_a_changed_one_is_read_again(tmp_path: Path) -> None:
    lists = write_lists(tmp_path)
    config = _config(tmp_path, lists, tmp_path / "w.db")
    settings = load_settings(str(config))
    before = screen_of(settings.watchlists, lambda line: None)
    assert before is screen_of(settings.watchlists, lambda line: None)  # loaded once
    time.sleep(0.01)
    lists["csv"].write_text(CSV + "P4,Pak Jong Chon,\n", encoding="utf-8")
    os.utime(lists["csv"], None)
    after = screen_of(settings.watchlists, lambda line: None)
    assert after is not before and [h.entity_id for h in after.hits("", "Pak Jong-chon spoke.")] == ["P4"]
    lists["csv"].unlink()
    with pytest.raises(ConfigError) as raised:
        load_settings(str(config))
    assert str(raised.value) == (f"{config}: watchlists[1].path: watchlist {lists['csv']} does not exist")


def test_a_watchlist_alert_reaches_a_webhook_with_the_entity_and_its_sentence(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    store = open_store(tmp_path / "w.db")
    screen = Screen(ENTITIES)
    article = _report(1, "Ambassador Vasily Nebenzya told the council the panel was biased.", 0)
    channels = AlertSettings(webhooks=(WebhookConfig(httpserver.url_for("/hook")),))
    commit_articles([article], store, load_index(store), (), channels, NOW, None, screen=screen)
    report = deliver_alerts(store, channels, NOW)
    assert report.sent == 1
    sent = json.loads(httpserver.log[0][0].get_data())["alerts"][0]
    assert sent["topic"] == "test-sdn"
    assert sent["entity"] == {"list": "test-sdn", "id": "1003", "name": "NEBENZIA, Vassily Alekseevich"}
    assert sent["snippet"] == (
        "NEBENZIA, Vassily Alekseevich (test-sdn 1003) named: "
        "Ambassador Vasily Nebenzya told the council the panel was biased."
    )
