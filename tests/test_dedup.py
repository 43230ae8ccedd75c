"""Story clustering on real wire rewrites: same grouping whatever the arrival order."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from wirewatch.dedup import StoryIndex, decide_placement, fingerprint_text
from wirewatch.dedup.article_table import Candidates
from wirewatch.dedup.features import content_words, jaccard
from wirewatch.dedup.fingerprint import minhash_of
from wirewatch.dedup.index import article_time, new_entry
from wirewatch.demo_server import demo_root
from wirewatch.extractors import extract_page
from wirewatch.extractors.article import read_file_page
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import extract_articles, strip_source_templates
from wirewatch.records import NewArticle
from wirewatch.settings import AlertSettings
from wirewatch.store import open_store
from wirewatch.store.schema import MIGRATIONS


def _as_new(path: Path, source: str | None = None) -> NewArticle:
    article = extract_page(read_file_page(path))
    return NewArticle(
        url=path.resolve().as_uri(),
        source=source or path.name,
        title=article.title or path.name,
        text=article.text,
        published=article.date,
    )


@pytest.fixture(scope="module")
def seed_articles(seed_paths: list[Path]) -> dict[str, NewArticle]:
    return {p.name[:3]: _as_new(p) for p in seed_paths}


def _grouping(store_path: Path, articles: list[NewArticle]) -> set[frozenset[str]]:
    store = open_store(store_path)
    index = load_index(store)
    for n, article in enumerate(articles):  # one at a time: articles arrive over several runs
        commit_articles([article], store, index, (), AlertSettings(), _NOW + timedelta(hours=n))
    groups: dict[int, set[str]] = {}
    for stored in store.articles.listing():
        groups.setdefault(stored.cluster_id or 0, set()).add(Path(stored.url).name[:3])
    store.close()
    return {frozenset(g) for g in groups.values()}


_NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_content_words_separate_same_story_from_same_topic(seed_articles: dict[str, NewArticle]) -> None:
    words = {k: content_words(a.title + " " + a.text) for k, a in seed_articles.items()}
    same = [jaccard(words[a], words[b]) for a, b in itertools.combinations(["000", "001", "002", "004"], 2)]
    different = [jaccard(words["003"], words[k]) for k in ["000", "001", "002", "004"]]
    assert min(same) > max(different)


def test_every_arrival_order_of_the_seeds_gives_the_same_two_stories(
    seed_articles: dict[str, NewArticle], tmp_path: Path
) -> None:
    expected = {frozenset({"000", "001", "002", "004"}), frozenset({"003"})}
    for n, order in enumerate(itertools.permutations(sorted(seed_articles))):
        grouping = _grouping(tmp_path / f"order{n}.db", [seed_articles[k] for k in order])
        assert grouping == expected, order


def test_demo_copies_are_near_duplicates_and_unrelated_stories_stay_apart(tmp_path: Path) -> None:
    pages = sorted((demo_root() / "pages").glob("*/*.html"))
    store = open_store(tmp_path / "demo.db")
    # The pipeline's own path: extraction, then each outlet's template paragraphs stripped.
    articles, _ = extract_articles([read_file_page(p, source=p.parent.name) for p in pages])
    articles, _ = strip_source_templates(articles, store.articles.source_paragraph_counts)
    commit_articles(articles, store, load_index(store), (), AlertSettings(), _NOW)
    by_page = {f"{Path(a.url).parent.name}/{Path(a.url).stem}": a for a in store.articles.listing()}
    original = by_page["meridian/nk-oil-transfers"]
    # Pages carry only a day, so which of the three copies arrived first is a tie broken by URL:
    # one of them is the original, the verbatim copy and the light edit are its near-duplicates.
    copies = ["meridian/nk-oil-transfers", "harbor/nk-oil-transfers", "capital/nk-oil-cap-report"]
    assert sorted(by_page[k].tier or "" for k in copies) == ["near_duplicate", "near_duplicate", "original"]
    assert by_page["northern/nk-fuel-tankers"].tier == "related"
    s1 = {
        by_page[k].cluster_id
        for k in [
            "meridian/nk-oil-transfers",
            "harbor/nk-oil-transfers",
            "capital/nk-oil-cap-report",
            "northern/nk-fuel-tankers",
        ]
    }
    assert s1 == {original.cluster_id}
    assert by_page["capital/saltmere-port-walkout"].cluster_id == by_page["harbor/port-strike"].cluster_id
    assert by_page["northern/south-korea-seizes-tanker"].cluster_id != original.cluster_id
    # Another tanker seized six days later: same topic and words, another event.
    second_seizure = by_page["harbor/blue-heron-seized"].cluster_id
    assert second_seizure not in {
        original.cluster_id,
        by_page["northern/south-korea-seizes-tanker"].cluster_id,
    }
    clusters = store.clusters.listing()
    assert len(clusters) == len(pages) - 4  # 4 copies/rewrites join existing stories
    store.close()


def test_placement_is_symmetric_and_explains_its_score(seed_articles: dict[str, NewArticle]) -> None:
    a, b = seed_articles["002"], seed_articles["001"]
    fa, fb = fingerprint_text(a.title, a.text), fingerprint_text(b.title, b.text)
    ab = decide_placement(fa, Candidates.of([new_entry(2, None, fb, seen=0.0, arrived=0.0)]))
    ba = decide_placement(fb, Candidates.of([new_entry(1, None, fa, seen=0.0, arrived=0.0)]))
    assert ab.tier == ba.tier == "related" and ab.basis == "words"
    assert ab.score == ba.score == round(jaccard(fa.words, fb.words), 4)
    assert decide_placement(fa, Candidates.of([])).tier == "original"


# --- the time window, common names, and an upgraded store -------------------------------------------

_REPORT = (
    "Harbour authorities in Velmora closed the northern container terminal on Tuesday after a crane "
    "operated by Ostrander Logistics collapsed onto two moored barges. Inspector Halvard Quist said the "
    "terminal would stay shut for at least 72 hours while engineers from the Velmora Port Trust examine "
    "the remaining cranes. Shipping agents diverted 14 vessels to the southern quays, where queues "
    "stretched past the breakwater by nightfall. Nobody was hurt, according to a statement from the "
    "dockworkers' union, which has warned about the age of the cranes since 2019."
)


def _report(n: int, published: datetime) -> NewArticle:
    return NewArticle(
        url=f"https://outlet{n}.test/velmora-crane",
        source=f"outlet{n}",
        title="Crane collapse shuts Velmora terminal",
        text=_REPORT,
        published=published,
    )


@pytest.mark.parametrize(("days_apart", "joins"), [(2, True), (10, False)])
def test_copies_join_only_within_the_story_window(tmp_path: Path, days_apart: int, joins: bool) -> None:
    store = open_store(tmp_path / "window.db")
    first = _NOW - timedelta(days=days_apart)
    for n, published in enumerate([first, _NOW]):
        commit_articles([_report(n, published)], store, load_index(store), (), AlertSettings(), _NOW)
    old, new = store.articles.listing()
    store.close()
    assert (new.cluster_id == old.cluster_id) is joins
    assert new.tier == ("near_duplicate" if joins else "original")


def test_the_index_loads_only_the_articles_of_the_window(tmp_path: Path) -> None:
    store = open_store(tmp_path / "loaded.db")
    index = load_index(store)
    for day in range(20):  # an article a day, each stored the day it appeared
        when = _NOW + timedelta(days=day)
        article = NewArticle(f"https://a.test/{day}", "a", f"Day {day}", f"Report number {day}.", when)
        commit_articles([article], store, index, (), AlertSettings(), when)
    assert len(index) == 8  # days 12..19: 7 days back from the latest, both ends included
    assert len(load_index(store)) == 8
    assert store.count("fingerprints") == 20  # the store keeps every fingerprint
    store.close()


def test_an_index_loaded_from_the_store_decides_as_the_one_that_built_it(tmp_path: Path) -> None:
    """A run's start loads the window in bulk (add_stored): the same candidates, stories and
    placements as the index that placed the articles one by one."""
    store = open_store(tmp_path / "reload.db")
    pages = sorted((demo_root() / "pages").glob("*/*.html"))
    articles, _ = extract_articles([read_file_page(p, source=p.parent.name) for p in pages])
    built = load_index(store)
    commit_articles(articles, store, built, (), AlertSettings(), _NOW)
    loaded = load_index(store)
    assert len(loaded) == len(built) == len(articles)
    candidates = 0
    for article in articles:
        fp = fingerprint_text(article.title + " (follow-up)", article.text[:600])
        seen = _NOW.timestamp()
        found = [
            built.candidates(fp, built.lsh_hash(fp), seen, seen),
            loaded.candidates(fp, loaded.lsh_hash(fp), seen, seen),
        ]
        assert found[0].ids == found[1].ids
        assert built.place(fp, found[0]) == loaded.place(fp, found[1])
        assert all(built.cluster_of(c) == loaded.cluster_of(c) for c in found[0].ids)
        candidates += len(found[0])
    assert candidates >= len(articles)  # each follow-up finds at least the article it follows
    store.close()


def _article_words(names: list[str], seed: int) -> str:
    """Sentences of invented lower-case words, each naming one of `names`: no shared phrases."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    return " ".join(f"{word().capitalize()} {word()} {name} {word()} {word()}." for name in names)


def test_names_common_to_many_stories_do_not_make_them_candidates() -> None:
    index, unfiltered = StoryIndex(), StoryIndex()
    arrived = _NOW.timestamp()
    for story in range(60):  # 60 unrelated stories, all naming Washington and the Pentagon
        names = ["Washington", "Pentagon", *(f"Name{story}x{k}" for k in range(7))]
        fp = fingerprint_text(f"Story {story}", _article_words(names, seed=story))
        index.add(new_entry(story, story, fp, None, arrived, index.lsh_hash(fp)))
        unfiltered.add(new_entry(story, story, fp, None, arrived, minhash_of(fp.salient_hashes)))
    fresh = ["Washington", "Pentagon", *(f"Fresh{k}" for k in range(7))]
    other = fingerprint_text("Another story", _article_words(fresh, seed=100))
    assert len(index.candidates(other, index.lsh_hash(other), None, arrived)) == 0
    # Indexed by all their names, most of the 60 would be candidates (each shares 2 of 16 names).
    assert len(unfiltered.candidates(other, minhash_of(other.salient_hashes), None, arrived)) > 20
    # An article of story 7 is still found by its own names.
    again = ["Washington", "Pentagon", *(f"Name7x{k}" for k in range(5))]
    same = fingerprint_text("Story 7 again", _article_words(again, seed=101))
    assert index.candidates(same, index.lsh_hash(same), None, arrived).ids == [7]


@pytest.mark.parametrize("version", [4, 15], ids=["before-the-window", "full-minhashes"])
def test_an_older_store_is_fingerprinted_again(tmp_path: Path, version: int) -> None:
    """Stores from before the story window (v4) and from before fingerprints were kept as the
    index holds them (v15) have their fingerprints computed again, and place as before."""
    path = tmp_path / f"v{version}.db"
    db = sqlite_utils.Database(path)
    for step in MIGRATIONS[:version]:
        step(db)
    db.execute(f"PRAGMA user_version = {version}")
    db["clusters"].insert(
        {"id": 1, "headline": "h", "first_seen": "2026-11-22", "last_seen": "2026-11-22", "created": "x"}
    )
    old = _report(0, _NOW - timedelta(days=1))
    db["articles"].insert(
        {
            "url": old.url,
            "source": old.source,
            "title": old.title,
            "text": old.text,
            "cluster_id": 1,
            "published": old.published.isoformat(),
            "fetched": _NOW.isoformat(),
            "tier": "original",
        }
    )
    if version >= 6:  # a fingerprint in the old form (two serialised MinHashes, float16 embedding)
        db.execute(
            "INSERT INTO fingerprints VALUES (1, NULL, 0, ?, ?, ?, ?, ?, ?)",
            (b"\x00" * 528, b"\x00" * 528, b"", b"", b"", b"\x00" * 512),
        )
    db.close()
    store = open_store(path)  # upgrades the schema; the old fingerprints are gone
    commit_articles([_report(1, _NOW)], store, load_index(store), (), AlertSettings(), _NOW)
    stored = store.articles.listing()
    assert store.count("fingerprints") == 2
    store.close()
    assert [a.cluster_id for a in stored] == [1, 1] and stored[1].tier == "near_duplicate"


def test_an_upgrade_fingerprints_the_story_window_not_the_whole_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fingerprints a schema upgrade drops are computed again for the window a run's index reads,
    newest first, not for every article ever stored (a million would take a quarter of an hour)."""
    import wirewatch.flows.commit as commit

    store = open_store(tmp_path / "upgraded.db")
    stored_at = [_NOW - timedelta(days=40 - n) for n in range(3)] + [
        _NOW - timedelta(hours=9 - n) for n in range(5)
    ]
    for n, fetched in enumerate(stored_at):
        commit_articles([_report(n, fetched)], store, load_index(store), (), AlertSettings(), fetched)
    clusters = [a.cluster_id for a in store.articles.listing()]
    store.db.execute("DELETE FROM fingerprints")  # as the upgrade to stored index entries does
    monkeypatch.setattr(commit, "REFINGERPRINT_BATCH", 2)
    index = load_index(store)
    fingerprinted = {row[0] for row in store.db.execute("SELECT article_id FROM fingerprints")}
    ids = [a.id for a in store.articles.listing()]
    assert set(ids[3:]) <= fingerprinted and ids[0] not in fingerprinted
    assert len(index) == 5
    commit_articles([_report(9, _NOW)], store, index, (), AlertSettings(), _NOW)
    assert [a.cluster_id for a in store.articles.listing()] == [*clusters, clusters[-1]]
    store.close()


def test_feed_headlines_join_the_story_they_report(tmp_path: Path) -> None:
    """Entries stored from the feed alone (page unreadable) still land in their story."""
    store = open_store(tmp_path / "headlines.db")
    pages = sorted((demo_root() / "pages").glob("*/*.html"))
    articles, _ = extract_articles([read_file_page(p, source=p.parent.name) for p in pages])
    index = load_index(store)
    commit_articles(articles, store, index, (), AlertSettings(), _NOW)
    by_page = {f"{Path(a.url).parent.name}/{Path(a.url).stem}": a for a in store.articles.listing()}
    headlines = {
        "North Korea evaded UN oil cap with ship-to-ship transfers, panel finds": "meridian/nk-oil-transfers",
        "Port strike at Saltmere enters second day": "harbor/port-strike",
        "Skarva and Vindlo merger wins shareholder approval": "meridian/skarva-vindlo-merger",
        "Election commission sets date for mayoral vote": None,
        "Mozambique election results delayed": None,  # one shared word is not one event
    }
    for n, title in enumerate(headlines):
        entry = NewArticle(f"https://wire.test/{n}", "wire", title, "", _NOW, from_feed_only=True)
        commit_articles([entry], store, index, (), AlertSettings(), _NOW)
    stored = {a.title: a for a in store.articles.listing() if a.url.startswith("https://wire.test/")}
    for title, page in headlines.items():
        if page is None:
            assert stored[title].tier == "original"
        else:
            assert stored[title].cluster_id == by_page[page].cluster_id, title
            assert stored[title].tier == "related"
    members = {m.id: m for m in store.clusters.members(by_page["harbor/port-strike"].cluster_id)}
    store.close()
    assert members[stored["Port strike at Saltmere enters second day"].id].basis == "story_model"


def test_the_index_follows_cluster_merges() -> None:
    index = StoryIndex()
    arrived = _NOW.timestamp()
    titles = {
        1: "Saltmere dockers strike",
        2: "Saltmere port strike shuts terminal",
        3: "Wheat harvest forecast",
    }
    for article_id, title in titles.items():
        fp = fingerprint_text(title, "")
        cluster = 1 if article_id == 1 else article_id  # 1 and 2 start as two stories
        index.add(new_entry(article_id, cluster, fp, None, arrived, index.lsh_hash(fp)))
    index.merge(2, 1)
    assert index.cluster_of(2) == 1
    headline = fingerprint_text("Port strike at Saltmere terminal", "")
    placement = index.place(headline, Candidates.of([]))
    assert placement.basis == "story_model" and placement.matched_article_id == 2
    index.merge(3, 3)  # a cluster merged into itself: nothing moves
    assert index.cluster_of(3) == 3


def test_articles_leave_the_window_whatever_their_titles() -> None:
    """Titles made only of stop words give no title words; the index must still let them go."""
    index = StoryIndex(window_seconds=60)
    for n, title in enumerate(["The", "Port strike closes terminal", "It is what it is"]):
        fp = fingerprint_text(title, _REPORT)
        index.add(new_entry(n, 1, fp, None, float(n), index.lsh_hash(fp)))
    late = fingerprint_text("Wheat harvest", "A late report about wheat.")
    index.add(new_entry(9, 2, late, None, 1000.0, index.lsh_hash(late)))
    assert len(index) == 1 and index.cluster_of(0) is None


def test_article_time_takes_the_earlier_of_date_and_fetch_and_reads_naive_dates_as_utc() -> None:
    fetched = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert article_time(None, fetched) is None
    assert article_time(datetime(2030, 1, 1, tzinfo=UTC), fetched) == fetched.timestamp()  # future: a mistake
    naive = datetime(2026, 11, 20, 8)
    assert article_time(naive, fetched) == naive.replace(tzinfo=UTC).timestamp()


def test_an_article_joins_a_story_known_only_from_its_headline(tmp_path: Path) -> None:
    """The first outlet's page was unreadable; the next outlet's full article is the same story."""
    store = open_store(tmp_path / "headline-first.db")
    index = load_index(store)
    title = "North Korea evaded UN oil cap through ship-to-ship transfers, experts say"
    entry = NewArticle("https://wire.test/oil", "wire", title, "", _NOW, from_feed_only=True)
    commit_articles([entry], store, index, (), AlertSettings(), _NOW)
    page = demo_root() / "pages" / "meridian" / "nk-oil-transfers.html"
    articles, _ = extract_articles([read_file_page(page, source="meridian")])
    unrelated = demo_root() / "pages" / "meridian" / "ember-shark-species.html"
    articles += extract_articles([read_file_page(unrelated, source="meridian")])[0]
    commit_articles(articles, store, index, (), AlertSettings(), _NOW)
    stored = {Path(a.url).stem: a for a in store.articles.listing()}
    store.close()
    assert stored["nk-oil-transfers"].cluster_id == stored["oil"].cluster_id
    assert stored["nk-oil-transfers"].tier == "related"
    assert stored["ember-shark-species"].cluster_id != stored["oil"].cluster_id


def test_the_seeds_two_events_stay_apart_even_within_one_week(
    seed_articles: dict[str, NewArticle], tmp_path: Path
) -> None:
    """The March veto and the June meeting share their vocabulary; dated within days of each other
    (inside the story window, so they are compared), they are still two stories."""
    week = {
        key: NewArticle(a.url, a.source, a.title, a.text, _NOW - timedelta(days=n))
        for n, (key, a) in enumerate(sorted(seed_articles.items()))
    }
    expected = {frozenset({"000", "001", "002", "004"}), frozenset({"003"})}
    rng = random.Random(7)
    for n in range(6):
        order = sorted(week)
        rng.shuffle(order)
        assert _grouping(tmp_path / f"week{n}.db", [week[k] for k in order]) == expected, order


# Two reports of our own, full length: same topic, same vocabulary, two events six days apart.
_SEIZURES = {
    "first": (
        "Coast guard seizes tanker Aurora Dawn over transfers of fuel to North Korea",
        "The coast guard boarded the Aurora Dawn, a Panama-flagged tanker of 5,100 tonnes, off "
        "Yeosu early on Monday and detained its crew of 17 after a six-hour standoff in heavy "
        "seas. Officials said satellite images showed the ship moored alongside a North Korean "
        "vessel in the Yellow Sea in late October, when about 3,000 tonnes of refined oil were "
        "pumped across in a ship-to-ship transfer, breaching the United Nations cap on fuel "
        "deliveries to Pyongyang.\n"
        "Inspectors found two sets of cargo papers on the bridge, one naming a buyer in Nakhodka "
        "that customs officers say does not exist. The captain, a 58-year-old Filipino, told "
        "investigators he had followed orders from the ship's manager by radio.\n"
        "The manager, Bright Lantern Shipping, is registered at a Hong Kong address shared by "
        "forty other companies and did not answer calls. Prosecutors in Gwangju have asked a "
        "court to keep the tanker in port while its owners are traced; its insurer, a Liberian "
        "mutual, suspended cover on Tuesday.",
    ),
    "second": (
        "Coast guard seizes tanker Kestrel Star in new North Korea fuel case",
        "Six days later a second tanker was held: the Kestrel Star, flagged in Togo, was "
        "stopped at the approaches to Busan on Sunday as it returned from what its crew logged "
        "as a voyage to Qingdao. Investigators said its tracking beacon had sent false positions "
        "for nine days while it sailed north to meet a smaller North Korean ship off Nampo.\n"
        "About 1,200 tonnes of diesel are thought to have changed hands. The 2,800-tonne vessel "
        "is owned through a company in the Marshall Islands whose sole director, an accountant "
        "in Dubai, resigned a week before the voyage.\n"
        "Its captain, a Georgian national, and the 12 sailors aboard were questioned at Busan "
        "and may face charges under the foreign trade act, the first time it would be used "
        "against a crew. The foreign ministry said it had briefed the sanctions committee in "
        "New York and would share the ship's logs with partner governments.",
    ),
}


def test_two_seizures_six_days_apart_are_two_stories_and_their_headlines_follow(tmp_path: Path) -> None:
    store = open_store(tmp_path / "seizures.db")
    index = load_index(store)
    for n, (key, (title, text)) in enumerate(_SEIZURES.items()):
        day = _NOW + timedelta(days=6 * n)  # both inside the 7-day story window
        article = NewArticle(f"https://news.test/{key}", "Harbour Times", title, text, day)
        commit_articles([article], store, index, (), AlertSettings(), day)
    headlines = {
        "Kestrel Star tanker held at Busan, Togo-flagged ship delivered diesel to North Korea": "second",
        "Aurora Dawn crew of 17 detained off Yeosu after oil transfer to North Korean vessel": "first",
    }
    for n, title in enumerate(headlines):
        later = _NOW + timedelta(days=6, hours=n + 1)
        entry = NewArticle(f"https://wire.test/{n}", "wire", title, "", later, from_feed_only=True)
        commit_articles([entry], store, index, (), AlertSettings(), later)
    by_url = {a.url: a for a in store.articles.listing()}
    store.close()
    first, second = by_url["https://news.test/first"], by_url["https://news.test/second"]
    assert first.cluster_id != second.cluster_id
    for n, key in enumerate(headlines.values()):
        joined = by_url[f"https://wire.test/{n}"].cluster_id
        assert joined == by_url[f"https://news.test/{key}"].cluster_id, key


def test_the_decision_names_the_story_and_the_stories_it_merges() -> None:
    index = StoryIndex()
    report = fingerprint_text("Port strike closes Saltmere", _REPORT)
    index.add(new_entry(1, 10, report, None, 0.0))
    index.add(new_entry(2, 20, report, None, 0.0))  # the same text in another story: a split
    placement = index.place(report, index.candidates(report, index.lsh_hash(report), None, 0.0))
    assert placement.tier == "near_duplicate"
    assert placement.story == 10 and placement.merges == (20,)
    alone = fingerprint_text("Wheat harvest forecast raised", "Farmers expect a record wheat harvest.")
    placement = index.place(alone, index.candidates(alone, index.lsh_hash(alone), None, 0.0))
    assert placement.story is None and placement.merges == ()
