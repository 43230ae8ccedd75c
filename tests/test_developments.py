"""Developments: a story's later members alert when they add news, not when they copy or reword it.

One story of our own writing arrives article by article, as runs would store it: the first
report, a syndicated copy, a rewrite, an update with the vote result and a newly named ship, a
copy of that update, and another outlet's update with Beijing's response. A `developments`
topic alerts on the first report, then once, an hour after it (`min_interval_minutes`), for the
two updates together; copies and rewrites raise nothing. Delivery goes to a real endpoint on loopback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from wirewatch.cli import main
from wirewatch.flows.commit import commit_articles, deliver_alerts, load_index
from wirewatch.records import NewArticle
from wirewatch.settings import AlertSettings, TopicConfig
from wirewatch.store import open_store

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)

FIRST = (
    "Security Council to vote on tanker sanctions",
    "The United Nations Security Council will vote on Friday on a draft resolution that would add "
    "four tankers to the sanctions list for carrying fuel to North Korea, diplomats said.\n\n"
    "The draft, circulated by Britain and France, names the vessels Amber Gale, Coral Mist, "
    "Harbor Wren and Nordic Veil, which a panel report said made 31 transfers at sea last year.\n\n"
    "Russia has said it opposes new measures while talks on the Korean peninsula stall.",
)
COPY = (
    "UN council set for vote on sanctions against fuel tankers",
    FIRST[1] + "\n\nThis story was first published by Wire Service.",
)
REWRITE = (
    "Four tankers face UN blacklisting over North Korea fuel runs",
    "Diplomats said the Security Council would vote on Friday on whether to blacklist four tankers "
    "accused of carrying fuel to North Korea.\n\n"
    "Britain and France drafted the resolution naming Amber Gale, Coral Mist, Harbor Wren and "
    "Nordic Veil; a panel report found the ships made 31 transfers at sea last year.\n\n"
    "Moscow has said it opposes new measures while talks on the peninsula stall.",
)
UPDATE = (
    "Security Council adopts tanker sanctions, names fifth ship",
    "The United Nations Security Council adopted sanctions on Friday against tankers carrying fuel "
    "to North Korea, by 12 votes to 2 with one abstention.\n\n"
    "A last-minute amendment added a fifth vessel, the Silver Tern, flagged in Palau, to the "
    "sanctions list.\n\n"
    "The draft, circulated by Britain and France, names the vessels Amber Gale, Coral Mist, "
    "Harbor Wren and Nordic Veil, which a panel report said made 31 transfers at sea last year.",
)
UPDATE_COPY = (
    "UN adopts sanctions on five tankers",
    UPDATE[1] + "\n\nReporting by a staff writer; editing by the desk.",
)
RESPONSE = (
    "China criticises new tanker sanctions",
    'China\'s envoy Geng Shuang said the sanctions would "only deepen the deadlock" and called for '
    "talks.\n\n"
    "The Security Council adopted sanctions on Friday against tankers carrying fuel to North Korea, "
    "by 12 votes to 2 with one abstention.",
)


def _article(source: str, piece: tuple[str, str], minutes: int) -> NewArticle:
    return NewArticle(
        url=f"https://{source}/{minutes}",
        source=source,
        title=piece[0],
        text=piece[1],
        published=T0 + timedelta(minutes=minutes),
        language="en",
    )


ARRIVALS = [
    ("wire.example", FIRST, 0),
    ("daily.example", COPY, 10),
    ("herald.example", REWRITE, 20),
    ("wire.example", UPDATE, 40),
    ("courier.example", UPDATE_COPY, 45),
    ("gazette.example", RESPONSE, 50),
]


def test_updates_alert_as_one_development_and_copies_and_rewrites_do_not(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    alerts = AlertSettings(
        urls=(f"json://127.0.0.1:{httpserver.port}/hook",), review_url="http://review.test"
    )
    topic = TopicConfig("tankers", "sanctions OR tanker*", mode="developments", min_interval_minutes=60)
    db = tmp_path / "w.db"
    store = open_store(db)
    sent_at: list[datetime] = []
    for source, piece, minutes in ARRIVALS:  # one run per arrival, delivering as a schedule would
        now = T0 + timedelta(minutes=minutes)
        commit_articles([_article(source, piece, minutes)], store, load_index(store), (topic,), alerts, now)
        if deliver_alerts(store, alerts, now).sent:
            sent_at.append(now)
    # The update's development waits until an hour after the first alert, gathering the response.
    assert deliver_alerts(store, alerts, T0 + timedelta(minutes=59)).sent == 0
    later = T0 + timedelta(minutes=61)
    assert deliver_alerts(store, alerts, later).sent == 1
    sent_at.append(later)
    assert deliver_alerts(store, alerts, later + timedelta(hours=3)).sent == 0  # never twice

    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert len(bodies) == 2 and sent_at == [T0, later]
    first, development = bodies
    assert "new in" not in first["title"] and "new in" in development["title"]
    message = development["message"]
    assert "Story: http://review.test/clusters/" in message
    # The development opens with the story's summary (the first alert, of a one-source story,
    # shows that source's lead instead).
    assert "In short: " in message and "In short: " not in first["message"]
    # It carries what the two updates added, with their sources, and nothing the story had said.
    new = message.split("New since the last alert:", 1)[1]
    assert "12 votes to 2" in new and "Silver Tern" in new and "deepen the deadlock" in new
    assert "(wire.example)" in new and "(gazette.example)" in new
    assert "31 transfers" not in new and "courier.example" not in new

    done = CliRunner().invoke(main, ["alerts", "--db", str(db), "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert sorted(a["kind"] for a in shown) == ["development", "new_story"]
    carried = next(a for a in shown if a["kind"] == "development")["new_sentences"]
    assert {s["source"] for s in carried} == {"wire.example", "gazette.example"}
    assert all(set(s) == {"text", "article_id", "source"} for s in carried)

    listed = CliRunner().invoke(main, ["articles", "--db", str(db), "--json"])
    new_counts = {a["source"]: a["new_sentences"] for a in json.loads(listed.stdout)}
    assert new_counts["daily.example"] == 0 and new_counts["herald.example"] == 0  # copy, rewrite
    assert new_counts["courier.example"] == 0  # a copy of the update
    assert new_counts["gazette.example"] >= 1 and new_counts["wire.example"] >= 2
    store.close()

    # The story page: what each update added, highlighted in its text, and the two updates ringed
    # on the timeline as the articles that raised the development.
    from tests.test_web import call
    from wirewatch.settings import Settings
    from wirewatch.web import ReviewApp

    story = development["message"].split("Story: http://review.test", 1)[1].split()[0]
    page = call(ReviewApp(Settings(database=str(db)), host="127.0.0.1", port=8000), story).text
    assert page.count("New in this article") == 2  # the two updates; copies and the rewrite none
    assert '<mark class="new">A last-minute amendment added a fifth vessel, the Silver Tern' in page
    assert page.count('class="development-ring"') == 2
    assert "31 transfers at sea last year.</mark>" not in page


def test_feed_only_articles_are_read_for_new_sentences_too(tmp_path: Path) -> None:
    """Entries stored from their feed (the page unreachable) carry only a summary: its sentences
    are compared the same way, and a summary with the vote result raises the development."""
    topic = TopicConfig("tankers", "sanctions OR tanker*", mode="developments", min_interval_minutes=0)
    summaries = [
        ("Council to vote on tanker sanctions", FIRST[1].split("\n\n")[0], 0),
        ("Council votes on tanker sanctions", FIRST[1].split("\n\n")[0], 20),  # the same summary again
        ("Council adopts tanker sanctions", UPDATE[1].split("\n\n")[0], 40),  # the vote result
    ]
    store = open_store(tmp_path / "w.db")
    for title, summary, minutes in summaries:
        now = T0 + timedelta(minutes=minutes)
        entry = NewArticle(
            url=f"https://feed.example/{minutes}",
            source=f"outlet{minutes}.example",
            title=title,
            text=summary,
            published=now,
            from_feed_only=True,
            text_source="feed",
            language="en",
        )
        commit_articles([entry], store, load_index(store), (topic,), AlertSettings(), now)
    counts = [a.new_count for a in store.articles.listing()]
    assert counts[1:] == [0, 1], counts
    assert sorted(a.kind or "" for a in store.outbox.listing()) == ["development", "new_story"]
    store.close()


def test_what_members_said_is_kept_and_read_back_as_their_texts_say_it(tmp_path: Path) -> None:
    """Each run compares a new member with what its story's stored members said: read back from
    what was kept when they were stored, or split again from their texts for articles stored
    before that was kept. Both give every article the same new sentences."""
    topic = TopicConfig("tankers", "sanctions OR tanker*", mode="developments")
    measured = {}
    for kept in (True, False):
        store = open_store(tmp_path / f"{kept}.db")
        for source, piece, minutes in ARRIVALS:  # one run per arrival: the story is read each time
            if not kept:
                store.db.execute("DELETE FROM article_statements")  # as an older store has none
            now = T0 + timedelta(minutes=minutes)
            commit_articles(
                [_article(source, piece, minutes)], store, load_index(store), (topic,), AlertSettings(), now
            )
        kept_rows = store.db.execute("SELECT COUNT(*) FROM article_statements").fetchone()[0]
        assert kept_rows == (len(ARRIVALS) if kept else 1)  # the last run's article keeps its own
        measured[kept] = store.db.execute(
            "SELECT source, new_sentences, new_count, novelty FROM articles ORDER BY id"
        ).fetchall()
        store.close()
    assert measured[True] == measured[False]
    assert sum(row[2] for row in measured[True]) >= 4  # the two updates' new sentences among them
