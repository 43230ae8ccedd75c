"""One entry point per input kind; every failure carries its reason, never a bare None."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from wirewatch.errors import ExtractionError
from wirewatch.extractors.html import extract_html
from wirewatch.extractors.plaintext import extract_plaintext
from wirewatch.records import ExtractedArticle, Page

# Below this many words a "page" is a stub, an error page or a teaser, not an article.
MIN_ARTICLE_WORDS = 40
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text"}
# A saved page, scripts and inline images included, is rarely over a few MB (the fetch cap for a
# page is 5 MB by default); past this it is not one, and is not read whole into memory.
MAX_FILE_BYTES = 16 * 1024 * 1024
_FILE_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


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
    raw = read_regular_file(path)
    if b"\x00" in raw[:4096]:
        raise ExtractionError(str(path), "binary file, not a saved page")
    body = raw.decode("utf-8", errors="replace")
    kind = "text/html" if suffix in HTML_SUFFIXES else "text/plain"
    return Page(url=path.resolve().as_uri(), source=source or path.name, body=body, content_type=kind)


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else raises ExtractionError
    naming the file. A `.html` name may be a link to /dev/zero (endless) or a FIFO (reading waits
    for a writer): the kind is checked before opening, and again on the descriptor, which was
    opened without blocking, in case the path changed in between."""
    try:
        _refuse_special(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ExtractionError(str(path), f"cannot read file ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as file:
        _refuse_special(path, os.fstat(fd).st_mode)
        raw = file.read(limit + 1)
    if len(raw) > limit:
        raise ExtractionError(str(path), f"larger than {limit:,} bytes: not a saved page")
    return raw


def _refuse_special(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "a special file")
        raise ExtractionError(str(path), f"not a regular file ({kind})")
