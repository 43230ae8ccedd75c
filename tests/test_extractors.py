"""Extraction: the stored body is the article's own words; furniture and header lines are gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest

from wirewatch.demo_server import demo_root
from wirewatch.errors import ExtractionError
from wirewatch.extractors import extract_page
from wirewatch.extractors.article import read_file_page
from wirewatch.extractors.boilerplate import furniture_kind
from wirewatch.extractors.metadata import read_metadata
from wirewatch.extractors.plaintext import reflow
from wirewatch.records import Page
from wirewatch.timeutil import parse_iso

# Furniture named in the issues: none of these lines may survive in a stored body.
FURNITURE_LINES = [
    "Post a Comment",
    "0 Comments",
    "Facebook share button",
    "Twitter share button",
    "Mail share button",
    "Send a link to a friend",
    "No menu items!",
    "Check out our other content",
    "Top 10 Stories",
    "Related",
    "Settings",
    "CLOSE",
    "go top LETTER",
    "[to top of second column]",
]


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


def test_seed_bodies_hold_no_furniture(seed_paths: list[Path]) -> None:
    for path in seed_paths:
        article = extract_page(read_file_page(path))
        lines = _lines(article.text)
        for furniture in FURNITURE_LINES:
            assert furniture not in lines, (path.name, furniture)
        assert "All rights reserved" not in article.text, path.name
        assert "do not reflect the opinion" not in article.text, path.name
        assert "solely responsible for this content" not in article.text, path.name
        assert "://" not in article.text, path.name
        assert article.title and article.title not in lines, path.name


def test_repeated_photo_captions_are_dropped(seed_paths: list[Path]) -> None:
    for path in seed_paths:
        paragraphs = extract_page(read_file_page(path)).text.split("\n\n")
        assert len(paragraphs) == len(set(paragraphs)), path.name
        assert not any("AP-Yonhap" in p or "(Photo" in p or "File Photo" in p for p in paragraphs), path.name


def test_hard_wrapped_seed_comes_back_as_paragraphs_with_metadata(seed_paths: list[Path]) -> None:
    article = extract_page(read_file_page(next(p for p in seed_paths if p.name.startswith("004"))))
    assert (
        "The United States will confront Russia at the United Nations Security Council on Friday over "
        "violating a North Korea arms embargo" in article.text
    )
    assert article.author == "Michelle Nichols"
    assert article.date is not None and article.date.date().isoformat() == "2024-06-28"
    assert "By Michelle Nichols" not in article.text
    assert "June 28, 2024]" not in article.text


def test_header_lines_become_metadata(seed_paths: list[Path]) -> None:
    article = extract_page(read_file_page(next(p for p in seed_paths if p.name.startswith("001"))))
    assert article.date is not None and article.date.isoformat().startswith("2024-06-28T22:45")
    assert article.sitename and article.sitename not in article.text
    assert "Politics" not in _lines(article.text)


def test_reflow_keeps_unwrapped_text_and_joins_wrapped_text() -> None:
    loose = ["A headline", "", "One long paragraph " * 10, "", "Another long paragraph " * 10]
    assert reflow(loose) == [line.strip() for line in loose if line]
    wrapped = (
        "The committee met on Tuesday to consider the harbour plan and its\n"
        "costs, which have grown by a third since the spring, officials said.\n"
        "Opponents said the plan would close the fish market for two years and\n"
        "cost dozens of jobs in the old town, where rents are already high.\n"
        "A vote is expected next month after a public consultation closes on\n"
        "the first of the month, the chair of the committee told reporters.\n"
        "Background\n"
        "The harbour was last rebuilt in 1968 after a storm destroyed the pier\n"
        "and most of the warehouses along the northern quay in a single night.\n"
    ).splitlines()
    paragraphs = reflow(wrapped)
    assert paragraphs[0].startswith("The committee met") and paragraphs[0].endswith("officials said.")
    assert "Background" in paragraphs
    assert len(paragraphs) == 5


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Share on WhatsApp", "share"),
        ("Email this story to a friend", "share"),
        ("12 Comments", "comments"),
        ("Leave a comment", "comments"),
        ("Text size", "widget"),
        ("Most read", "teaser"),
        ("More from Politics", "teaser"),
        ("© 2025 Example Media Group", "notice"),
        ("The opinions expressed here do not necessarily reflect those of the publisher.", "notice"),
        ("A crowd gathers outside parliament. REUTERS/Jane Doe", "caption"),
        ("The minister said the vote would go ahead on Friday despite the protests.", None),
    ],
)
def test_furniture_rules_by_kind_on_unseen_wording(line: str, kind: str | None) -> None:
    assert furniture_kind(line) == kind


def test_demo_html_pages_come_out_clean() -> None:
    pages = sorted((demo_root() / "pages").glob("*/*.html"))
    assert len(pages) >= 18
    for path in pages:
        article = extract_page(read_file_page(path))
        lines = _lines(article.text)
        assert article.title and article.author and article.sitename, path
        assert len(article.text.split()) > 150, path
        for line in lines:
            assert furniture_kind(line) is None, (path, line)
        assert article.title not in lines, path
        assert not any("Comments" in line and len(line) < 20 for line in lines), path


def test_non_article_input_is_a_named_error(tmp_path: Path) -> None:
    stub = tmp_path / "stub.txt"
    stub.write_text("Home\nLogin\n404 page not found\n")
    with pytest.raises(ExtractionError, match=r"stub.txt: too little article text"):
        extract_page(read_file_page(stub))
    with pytest.raises(ExtractionError, match=r"data.csv: unsupported file type .csv"):
        read_file_page(tmp_path / "data.csv")
    with pytest.raises(ExtractionError, match=r"not an article page"):
        extract_page(Page(url="http://x.test/a.pdf", source="x", body="%PDF", content_type="application/pdf"))


# Lines of the seeds that are furniture although long: notices and photo credits the issue names.
_LONG_FURNITURE = (
    "reserved",
    "views expressed",
    "solely responsible",
    "REUTERS/",
    "AP-Yonhap",
    "(Photo",
    "may not be published",
)


def _prose_lines(raw: str) -> list[str]:
    return [
        " ".join(line.split())
        for line in raw.splitlines()
        if len(line.split()) >= 8 and not any(m in line for m in _LONG_FURNITURE)
    ]


def test_seed_bodies_keep_the_story_from_first_to_last_paragraph(seed_paths: list[Path]) -> None:
    for path in seed_paths:
        raw = path.read_text(encoding="utf-8")
        article = extract_page(read_file_page(path))
        body = " ".join(article.text.split())
        story = [line for line in _prose_lines(raw) if line != article.title]
        assert story[0] in body, (path.name, story[0])
        assert story[-1] in body, (path.name, story[-1])
        # Only a photo caption may go, and a caption is one block of consecutive lines.
        missing = [i for i, line in enumerate(story) if line not in body]
        if missing:
            assert missing == list(range(missing[0], missing[-1] + 1)), path.name
        assert len(missing) <= 6, (path.name, [story[i] for i in missing])


PLUS_2 = timezone(timedelta(hours=2))
MINUS_8 = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-28T22:45:00+00:00", datetime(2024, 6, 28, 22, 45, tzinfo=UTC)),  # what the store keeps
        ("2024-06-28T22:45:00Z", datetime(2024, 6, 28, 22, 45, tzinfo=UTC)),
        ("2024-06-28T22:45:00.123456789Z", datetime(2024, 6, 28, 22, 45, 0, 123456, tzinfo=UTC)),
        ("2024-06-28T22:45:00+0200", datetime(2024, 6, 28, 22, 45, tzinfo=PLUS_2)),
        ("2019-11-19 21:57:00 -0800", datetime(2019, 11, 19, 21, 57, tzinfo=MINUS_8)),
        ("2024-06-28 22:45", datetime(2024, 6, 28, 22, 45, tzinfo=UTC)),  # no offset: UTC
        ("2024-06-28", datetime(2024, 6, 28, tzinfo=UTC)),  # htmldate's form
        (" 2024-06-28T22:45:00 EDT", datetime(2024, 6, 28, 22, 45, tzinfo=UTC)),  # the ISO part is read
        ("2024-06-28T22:45:00+02:00, 2024-06-29", datetime(2024, 6, 28, 22, 45, tzinfo=PLUS_2)),
        ("2024", None),  # a year alone is not a day
        ("2024-06", None),
        ("2024-13-01", None),
        ("June 28, 2024", None),  # prose dates are extractors/dates.py's
        ("", None),
        (None, None),
    ],
)
def test_one_iso_parser_reads_what_markup_feeds_and_the_store_carry(
    text: str | None, expected: datetime | None
) -> None:
    moment = parse_iso(text)
    assert moment == expected
    if moment is not None:
        assert moment.utcoffset() == expected.utcoffset() and type(moment.tzinfo) is timezone


def test_page_metadata_dates_go_through_the_one_parser() -> None:
    tree = lxml.html.fromstring(
        '<html><head><script type="application/ld+json">'
        '{"@type": "NewsArticle", "datePublished": "2019-11-19 21:57:00 -0800"}</script></head>'
        "<body><p>x</p></body></html>"
    )
    assert read_metadata(tree).date == datetime(2019, 11, 20, 5, 57, tzinfo=UTC)
