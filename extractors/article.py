"""One entry point per input kind; every failure carries its reason, never a bare None."""

from __future__ import annotations

import re
from pathlib import Path

from wirewatch.errors import ExtractionError
from wirewatch.extractors.html import extract_html
from wirewatch.extractors.plaintext import extract_plaintext
from wirewatch.records import ExtractedArticle, Page

# Below this many words a "page" is a stub, an error page or a teaser, not an article.
MIN_ARTICLE_WORDS = 40
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text"}


# Scripts written without spaces between words (Chinese, Japanese, Thai): about two characters
# make a word, so a page in them is not mistaken for a stub.
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    return len(text.split()) + len(_UNSPACED.findall(text)) // 2


def looks_like_html(body: str) -> bool:
    head = body[:2048].lower()
    return "<html" in head or "<!doctype html" in head or "<body" in head or "<p>" in head


def extract_page(page: Page) -> ExtractedArticle:
    """Extract a fetched or read page; raise ExtractionError naming the page and the reason."""
    if page.content_type == "text/html" or looks_like_html(page.body):
        article = extract_html(page.body, page.url)
        if article is None:
            raise ExtractionError(page.url, "no article text found in the HTML")
    elif page.content_type == "text/plain":
        article = extract_plaintext(page.body, page.url)
    else:
        raise ExtractionError(page.url, f"not an article page (content type {page.content_type})")
    words = word_count(article.text)
    if words < MIN_ARTICLE_WORDS:
        raise ExtractionError(page.url, f"too little article text ({words} words, need {MIN_ARTICLE_WORDS})")
    return article


def read_file_page(path: Path, source: str | None = None) -> Page:
    """Read a saved page from disk; its URL is the file's absolute file:// URI."""
    suffix = path.suffix.lower()
    if suffix not in HTML_SUFFIXES | TEXT_SUFFIXES:
        raise ExtractionError(str(path), f"unsupported file type {suffix or '(none)'} (use .html or .txt)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(str(path), f"cannot read file ({exc.strerror})") from exc
    if b"\x00" in raw[:4096]:
        raise ExtractionError(str(path), "binary file, not a saved page")
    body = raw.decode("utf-8", errors="replace")
    kind = "text/html" if suffix in HTML_SUFFIXES else "text/plain"
    return Page(url=path.resolve().as_uri(), source=source or path.name, body=body, content_type=kind)
