"""Story summaries: the sentences most sources agree on, on the story page, in the Atom entry and
in `clusters --json`. The articles are written for these tests (an invented ferry fire)."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import feedparser
from click.testing import CliRunner
from markupsafe import escape

from tests.test_web import NOW, call, cluster_id_of
from wirewatch.cli import main
from wirewatch.dedup.summary import story_summary
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.records import NewArticle
from wirewatch.settings import AlertSettings, Settings, TopicConfig
from wirewatch.store import open_store
from wirewatch.web import ReviewApp

TOPICS = (TopicConfig("ferries", "ferry AND crossing*"),)

# Said by all three outlets (the second and third reword a little).
FIRE = (
    "Bluewake Lines suspended every crossing between Tarnholm and Orrin Island on Tuesday after "
    "fire broke out in the engine room of its ferry Maren Star."
)
RESCUE = (
    "All 212 passengers and 14 crew members were brought ashore safely at Kestrel Quay, the coastguard said."
)
RESCUE_REWORDED = (
    "The coastguard said all 212 passengers and 14 crew members had been brought safely ashore "
    "at Kestrel Quay."
)
INSPECTION = (
    "Bluewake said crossings would stay suspended until engineers had inspected its two other "
    "ferries, Orrin Belle and Skerry Dawn."
)
# Said by two outlets.
CAUSE = (
    "Investigators from the marine accident branch are expected to board the Maren Star on Wednesday morning."
)
# Said by one outlet each: its own boilerplate and its own colour.
BOILERPLATE = (
    "Sign up for the Coastline Herald morning briefing to get every island headline in your "
    "inbox before breakfast."
)
COLOUR = (
    "Gulls wheeled over the empty car ramp as the last passengers, some wrapped in foil "
    "blankets, climbed the slipway in drizzle."
)
HEADLINE = "Engine room fire halts Tarnholm ferry crossings"

HERALD = " ".join([BOILERPLATE, FIRE, COLOUR, RESCUE, INSPECTION])
COURIER = " ".join(
    [
        "Island residents face days without a ferry service after an engine room blaze on Tuesday.",
        "Bluewake Lines has suspended every crossing between Tarnholm and Orrin Island after fire "
        "broke out in the engine room of the ferry Maren Star on Tuesday.",
        RESCUE_REWORDED,
        CAUSE,
        "Bluewake said crossings would stay suspended until engineers had inspected its other two "
        "ferries, the Orrin Belle and the Skerry Dawn.",
        "Read more island news every weekday in the Valley Courier print edition.",
    ]
)
GAZETTE = " ".join(
    [
        "Bluewake Lines suspended every Tarnholm to Orrin Island crossing on Tuesday after fire "
        "broke out in the engine room of the ferry Maren Star.",
        "All 212 passengers and the 14 crew members were brought ashore safely at Kestrel Quay, "
        "according to the coastguard.",
        "The island's doctor, Elspeth Varga, said the surgery would open late for anyone needing care.",
        "Investigators from the marine accident branch are expected to board the Maren Star early "
        "on Wednesday.",
        "Bluewake said crossings would stay suspended until engineers had inspected both its other "
        "ferries, Orrin Belle and Skerry Dawn.",
    ]
)
STORY = [("Coastline Herald", HERALD), ("Valley Courier", COURIER), ("Island Gazette", GAZETTE)]

LONE_HEADLINE = "Orrin Island lifeboat crew honoured for winter rescue of trawler"
LONE_LEAD = [
    "The volunteer lifeboat crew on Orrin Island received a national bravery award on Monday for "
    "rescuing six fishermen from a sinking trawler in a January gale.",
    "Coxswain Ingrid Hale steered the boat through waves of seven metres to reach the Fair Lindy, "
    "which had lost power two miles off the north cliffs.",
    "The six men were lifted aboard one by one as the trawler rolled onto its side.",
]
LONE_TEXT = " ".join(
    [*LONE_LEAD, "The award was presented by the charity's chair at a ceremony in the harbour hall."]
)


def _article(source: str, text: str, hours: int, title: str = HEADLINE) -> NewArticle:
    slug = source.lower().replace(" ", "-")
    return NewArticle(
        url=f"https://{slug}.example/{hours}",
        source=source,
        title=title,
        text=text,
        published=NOW - timedelta(days=1) + timedelta(hours=hours),
    )


def _store(db: Path) -> Path:
    store = open_store(db)
    articles = [_article(source, text, hours) for hours, (source, text) in enumerate(STORY)]
    articles.append(_article("Coastline Herald", LONE_TEXT, 5, title=LONE_HEADLINE))
    commit_articles(articles, store, load_index(store), TOPICS, AlertSettings(), NOW)
    store.close()
    return db


def _app(db: Path) -> ReviewApp:
    return ReviewApp(
        Settings(database=str(db), topics=TOPICS), host="127.0.0.1", port=8000, clock=lambda: NOW
    )


# --- the summary itself ----------------------------------------------------------------------


def test_the_summary_is_what_most_sources_say_in_the_first_wording_and_story_order() -> None:
    summary = story_summary(STORY)
    # The three statements every outlet made, in the order the first article told them, in its
    # words (the Courier's reworded rescue sentence is the same statement, not a second one).
    assert summary == [FIRE, RESCUE, INSPECTION]
    # The Herald's newsletter plug opens the first article and its colour comes second, but only
    # the Herald wrote them; the Gazette's doctor and the Courier's plug likewise stay out.
    assert BOILERPLATE not in summary and COLOUR not in summary
    assert not any("Valley Courier print edition" in s or "Elspeth Varga" in s for s in summary)


def test_a_statement_two_sources_share_beats_one_source_colour_when_there_is_room() -> None:
    summary = story_summary(STORY, limit=4)
    # The Courier said it first (the Herald never did), so its words stand, after the Herald's.
    assert summary == [FIRE, RESCUE, INSPECTION, CAUSE]
    assert COLOUR not in summary and BOILERPLATE not in summary


def test_a_one_article_story_summarises_to_its_lead() -> None:
    assert story_summary([("Coastline Herald", LONE_TEXT)]) == LONE_LEAD
    assert story_summary([("Coastline Herald", LONE_TEXT)], limit=1) == LONE_LEAD[:1]
    assert story_summary([]) == []


def test_a_huge_story_is_summarised_quickly_from_its_earliest_and_latest_articles() -> None:
    # 120 articles of 50 sentences each; only the earliest 10 and the latest 20 are read (all of
    # them take half a minute), so a statement made only by the articles in between, however
    # many, counts for nothing.
    filler = [
        f"Filler line {n} from {{source}} about harbour number {n} and tide gauge {n}." for n in range(50)
    ]
    middle = "Ferry crossing talk that only middle outlets repeat about ramps, ropes and bollards."
    members = []
    for n in range(120):
        source = f"Outlet {n}"
        lines = [line.format(source=source) for line in filler]
        said = [middle] if 10 <= n < 100 else [FIRE, RESCUE]
        members.append((source, " ".join(said + lines)))
    started = time.perf_counter()
    summary = story_summary(members)
    assert time.perf_counter() - started < 10
    assert summary[:2] == [FIRE, RESCUE] and middle not in summary


def test_an_outlet_repeating_its_own_lines_does_not_make_them_the_story() -> None:
    # The Herald runs a second piece with the same plug and colour: two articles, one source.
    follow_up = " ".join(
        [BOILERPLATE, COLOUR, "Coastline Herald readers can send photographs to the newsroom."]
    )
    summary = story_summary([*STORY, ("Coastline Herald", follow_up)], limit=4)
    assert summary == [FIRE, RESCUE, INSPECTION, CAUSE]


# --- where it is shown -----------------------------------------------------------------------


def test_the_story_page_shows_the_summary_under_the_headline(tmp_path: Path) -> None:
    app = _app(_store(tmp_path / "ferry.db"))
    listing = call(app, "/")
    page = call(app, f"/clusters/{cluster_id_of(listing, HEADLINE)}")
    assert page.status == 200
    assert "3 sources" in page.text  # the three outlets are one story
    match = re.search(r'<ul class="summary" id="summary"[^>]*>(.*?)</ul>', page.text, re.S)
    assert match, "no summary on the story page"
    items = re.findall(r"<li>(.*?)</li>", match[1], re.S)
    assert items == [str(escape(s)) for s in (FIRE, RESCUE, INSPECTION)]
    assert page.text.index('class="headline"') < match.start() < page.text.index("<h2>Articles</h2>")
    lone = call(app, f"/clusters/{cluster_id_of(listing, LONE_HEADLINE)}")
    assert re.findall(r"<li>(.*?)</li>", lone.text.split('id="summary"')[1].split("</ul>")[0]) == [
        str(escape(s)) for s in LONE_LEAD
    ]


def test_a_story_without_sentences_shows_no_summary_list(tmp_path: Path) -> None:
    db = tmp_path / "short.db"
    store = open_store(db)
    short = _article("Coastline Herald", "Ferry off.", 0, title="Ferry crossing update")
    commit_articles([short], store, load_index(store), TOPICS, AlertSettings(), NOW)
    store.close()
    app = _app(db)
    page = call(app, f"/clusters/{cluster_id_of(call(app, '/'), short.title)}")
    assert page.status == 200 and 'id="summary"' not in page.text


def test_the_atom_entry_opens_with_the_summary(tmp_path: Path) -> None:
    db = _store(tmp_path / "ferry.db")
    result = CliRunner().invoke(main, ["export", "atom", "--topic", "ferries", "--db", str(db)])
    assert result.exit_code == 0, result.output
    feed = feedparser.parse(result.stdout)
    assert not feed.bozo, feed.get("bozo_exception")
    entry = next(e for e in feed.entries if e.title == HEADLINE)
    text = entry.summary
    positions = [text.index(str(escape(s))) for s in (FIRE, RESCUE, INSPECTION)]
    assert positions == sorted(positions) and positions[-1] < text.index("3 sources, 3 articles")
    assert str(escape(BOILERPLATE)) not in text


def test_clusters_json_carries_the_summary(tmp_path: Path) -> None:
    db = _store(tmp_path / "ferry.db")
    result = CliRunner().invoke(main, ["clusters", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    stories = {c["headline"]: c for c in json.loads(result.stdout)}
    assert stories[HEADLINE]["summary"] == [FIRE, RESCUE, INSPECTION]
    assert stories[LONE_HEADLINE]["summary"] == LONE_LEAD
