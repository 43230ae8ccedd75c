"""`wirewatch clusters --explain`: why each member joined, and merges kept on record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from wirewatch.cli import main
from wirewatch.dedup.explain import member_reason
from wirewatch.dedup.headline import representative_title
from wirewatch.flows.commit import place_article
from wirewatch.records import ClusterMember, NewArticle, Placement
from wirewatch.store import open_store

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _add(store, n: int, title: str, placement: Placement) -> int:  # type: ignore[no-untyped-def]
    article = NewArticle(
        url=f"https://news.test/{n}",
        source=f"Outlet {n}",
        title=title,
        text="Body text.",
        published=datetime(2026, 11, 20, n, tzinfo=UTC),
    )
    article_id = store.articles.insert(article, NOW)
    place_article(store, article_id, article.published.isoformat(), placement)
    return article_id


def test_explain_lists_each_member_with_its_reason_and_the_merges(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    store = open_store(db)
    a = _add(store, 1, "Port strike closes Saltmere", Placement(None, "original", 0.0))
    b = _add(store, 2, "Saltmere dockers walk out", Placement(None, "original", 0.0))
    c = _add(
        store,
        3,
        "Port strike closes Saltmere docks",
        Placement(a, "near_duplicate", 0.83, also_matched=(b,), story=1, merges=(2,)),
    )
    clusters = store.clusters.listing()
    store.close()
    assert len(clusters) == 1 and {x.id for x in clusters[0].articles} == {a, b, c}

    result = CliRunner().invoke(main, ["clusters", "--db", str(db), "--explain", "2", "--json"])
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["id"] == 1  # cluster 2 was merged into the older cluster 1
    reasons = {m["id"]: m["reason"] for m in explained["members"]}
    assert reasons[a] == "first article of the story"
    assert reasons[c] == "copy of #1: 3-shingle Jaccard ~0.83 >= 0.5"
    assert [m["from_cluster"] for m in explained["merges"]] == [2]
    assert "article #3 matched both" in explained["merges"][0]["reason"]
    missing = CliRunner().invoke(main, ["clusters", "--db", str(db), "--explain", "42"])
    assert missing.exit_code == 1 and missing.stderr.strip() == "Error: no cluster 42 in the store"


def test_headline_is_the_title_most_like_the_others() -> None:
    wire = "Dockworkers' strike shuts Port of Saltmere for 48 hours"
    titles = [
        "Chaos on the quays",  # the first to arrive, but says least about the story
        wire,
        "Saltmere port walkout strands ships as union and terminal operator dig in",
        wire,  # a syndicated copy keeps the wire's headline
        "Port of Saltmere shut by 48-hour dockworkers' strike",
    ]
    assert representative_title(titles) == wire
    assert representative_title(["Only one"]) == "Only one"


def test_headline_is_the_medoid_a_loop_over_every_pair_finds_ties_included() -> None:
    """Many copies make exact ties: the earliest of the most central titles wins, as when each
    title's Jaccard with every other is added up one pair at a time."""
    import random

    from wirewatch.dedup.features import content_words, jaccard
    from wirewatch.dedup.headline import MAX_TITLES

    def medoid(titles: list[str]) -> str:
        recent = titles[-MAX_TITLES:]
        words = [content_words(t) for t in recent]
        centrality = [sum(jaccard(a, b) for j, b in enumerate(words) if j != i) for i, a in enumerate(words)]
        return recent[max(range(len(recent)), key=lambda i: (centrality[i], -i))]

    rng = random.Random(5)
    vocabulary = [f"w{k}" for k in range(30)] + ["the", "of"]
    for _ in range(3000):
        wires = [" ".join(rng.sample(vocabulary, rng.randrange(0, 8))) for _ in range(rng.randrange(1, 5))]
        titles = [
            rng.choice(wires) if rng.random() < 0.5 else " ".join(rng.sample(vocabulary, rng.randrange(0, 8)))
            for _ in range(rng.randrange(1, 70))
        ]
        assert representative_title(titles) == medoid(titles)


def test_a_headline_match_is_explained_by_the_story_headlines() -> None:
    member = ClusterMember(
        7, "Port strike day two", "wire", None, "related", 3, "Port strike", 0.21, "headlines"
    )
    assert member_reason(member) == (
        "headline close to the story's headlines (nearest #3): IDF-weighted cosine 0.21 >= 0.08"
    )


def test_a_rewrite_is_explained_with_the_threshold_that_applied() -> None:
    def reason(basis: str) -> str:
        return member_reason(ClusterMember(7, "t", "s", None, "related", 3, "m", 0.17, basis))

    assert reason("words") == "rewrite of #3: content-word Jaccard 0.17 >= 0.14"
    assert reason("teaser_words") == "rewrite of #3: content-word Jaccard 0.17 >= 0.16"
