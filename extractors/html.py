"""Article text and metadata from HTML pages, with trafilatura doing the main work."""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from htmldate import find_date
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Document
from trafilatura.utils import load_html

from wirewatch.extractors.boilerplate import furniture_kind
from wirewatch.extractors.metadata import read_metadata
from wirewatch.records import ExtractedArticle
from wirewatch.timeutil import parse_iso

# Settings, chosen on purpose:
# - include_comments=False: reader comments are not the article, and they would leak other
#   stories' words into the fingerprint.
# - include_tables=True: wire stories carry tables of figures (casualties, results) that belong
#   to the story; trafilatura's defaults keep them too (F1 0.960 on shared/eval/extraction).
# - include_links/images/formatting=False: we store plain text for matching and reading.
# - favor_precision/recall left at the balanced default: with our furniture rules on top it
#   scores above bare trafilatura on shared/eval (benchmarks/extraction.py).
# - with_metadata=False: metadata comes from the page's own markup (extractors/metadata.py);
#   trafilatura's heuristic search runs only when that markup has no title or date.
_DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}


def extract_html(html: str, url: str) -> ExtractedArticle | None:
    """Clean text and metadata; None when trafilatura finds no main text."""
    tree = load_html(html)
    if tree is None:
        return None
    meta = read_metadata(tree)  # trafilatura works on a copy; the fallbacks below may prune this one
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
    )
    # Without as_dict=True trafilatura returns its Document; the union type says otherwise.
    if not isinstance(doc, Document) or not doc.text:
        return None
    title, date, author, sitename = meta.title, meta.date, meta.author, meta.sitename
    if not title:
        fallback = extract_metadata(tree, default_url=url, date_config=_DATE_PARAMS)
        title = fallback.title or None
        date = date or parse_iso(fallback.date)
        author = author or fallback.author or None
        sitename = sitename or fallback.sitename or None
    elif not date:
        date = parse_iso(find_date(tree, **_DATE_PARAMS))
    paragraphs = [p.strip() for p in doc.text.split("\n") if p.strip()]
    # Some templates put the headline inside the article container; it is metadata, not body.
    if paragraphs and title and _same_words(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    # trafilatura has already cut the page down to its main content, so only the furniture rules
    # apply here: repeated lines and short tails are real content in HTML articles (lists, Q&A),
    # and dropping them cost recall on shared/eval (benchmarks/extraction.py).
    text = "\n\n".join(p for p in paragraphs if furniture_kind(p) is None)
    return ExtractedArticle(
        url=url,
        title=title,
        author=author,
        date=date,
        sitename=sitename,
        text=text,
        language=meta.language or doc.language or None,
        canonical_url=meta.canonical_url if meta.canonical_url and meta.canonical_url != url else None,
    )


def _same_words(a: str, b: str) -> bool:
    return re.findall(r"\w+", a.lower()) == re.findall(r"\w+", b.lower())
