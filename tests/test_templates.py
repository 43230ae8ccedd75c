"""Per-source templates: a paragraph recurring on several pages of one source is stripped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wirewatch.extractors.templates import TEMPLATE_MIN_PAGES, strip_template, template_candidates
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.stages import extract_articles, strip_source_templates
from wirewatch.records import Page
from wirewatch.settings import AlertSettings
from wirewatch.store import open_store

NOW = datetime(2026, 11, 23, tzinfo=UTC)
PLUG = "Enjoyed this piece? The Lantern Review runs on reader donations, so chip in what you can today."


def _page(n: int, source: str = "Lantern Review", plug: str = PLUG) -> Page:
    topics = ["bridge repairs", "school meals", "river cleanup", "bus timetables", "library hours"]
    body = "\n\n".join(
        f"Paragraph {i} of a report on {topics[n]}: the council said the {topics[n]} plan would be "
        f"reviewed in the spring, after residents raised concerns at a meeting on day {n * 7 + i}."
        for i in range(4)
    )
    return Page(
        url=f"file:///pages/{source}/{n}.txt",
        source=source,
        body=f"{topics[n].title()} plan\n\n"
        f"{body}\n\n{plug}\n\nParagraph five closes the report on {topics[n]} with one more sentence.",
        content_type="text/plain",
    )


def _store_one_per_run(db: Path, pages: list[Page]) -> list[str]:
    store = open_store(db)
    index = load_index(store)
    texts = []
    for page in pages:  # one page per run, as a source publishes over days
        articles, _ = extract_articles([page])
        articles, _ = strip_source_templates(articles, store.articles.source_paragraph_counts)
        commit_articles(articles, store, index, (), AlertSettings(), NOW)
        texts.append(articles[0].text)
    store.close()
    return texts


def test_recurring_paragraph_is_learned_from_the_store_and_stripped(tmp_path: Path) -> None:
    texts = _store_one_per_run(tmp_path / "t.db", [_page(n) for n in range(5)])
    assert [PLUG in t for t in texts] == [n < TEMPLATE_MIN_PAGES - 1 for n in range(5)]
    assert all("Paragraph five closes the report" in t for t in texts)  # the page's own last words


def test_templates_are_per_source(tmp_path: Path) -> None:
    pages = [_page(n, source=f"Outlet {n}") for n in range(5)]  # same plug, five different sources
    assert all(PLUG in t for t in _store_one_per_run(tmp_path / "s.db", pages))


def test_a_batch_counts_its_own_pages(tmp_path: Path) -> None:
    articles, _ = extract_articles([_page(n) for n in range(3)])
    store = open_store(tmp_path / "b.db")
    cleaned, report = strip_source_templates(articles, store.articles.source_paragraph_counts)
    assert not any(PLUG in a.text for a in cleaned) and report.done == 3


def test_rerun_of_a_known_article_is_not_stripped_bare() -> None:
    text = "\n\n".join(f"Short paragraph number {i} of the story." for i in range(6))
    template = set(template_candidates(text))
    assert strip_template(text, template) == text


def test_demo_outlets_recurring_blocks_never_reach_the_store(tmp_path: Path) -> None:
    from wirewatch.demo_server import demo_root
    from wirewatch.extractors.article import read_file_page

    pages = [
        read_file_page(p, source=p.parent.name) for p in sorted((demo_root() / "pages").glob("*/*.html"))
    ]
    articles, _ = extract_articles(pages)
    raw_promos = sum("inline-promo" in p.body for p in pages)
    assert raw_promos == len(pages)  # every demo page carries its outlet's plug
    counts = open_store(tmp_path / "d.db").articles.source_paragraph_counts
    cleaned, _ = strip_source_templates(articles, counts)
    for before, after in zip(articles, cleaned, strict=True):
        removed = set(before.text.split("\n\n")) - set(after.text.split("\n\n"))
        assert len(removed) == 1, (before.url, removed)  # the outlet's plug, nothing else
