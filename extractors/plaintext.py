"""Article text from pages saved as plain text, furniture and all.

Steps: re-join hard-wrapped lines into paragraphs; drop repeated paragraphs (photo captions
shown twice) and lines the boilerplate rules recognise; read the header before the first prose
paragraph as metadata (title, date, byline, site name) and drop what remains of the tail after
the last prose paragraph.
"""

from __future__ import annotations

import re
from collections import Counter

from wirewatch.extractors.boilerplate import SHORT_LINE_WORDS, furniture_kind, is_prose, word_count
from wirewatch.extractors.dates import find_date, is_date_line
from wirewatch.records import ExtractedArticle

# Text counts as hard-wrapped when most lines are near one width no longer than this.
MAX_WRAP_WIDTH = 100
HARD_WRAP_SHARE = 0.5
_BYLINE = re.compile(
    r"^\W*(?i:by)\s+(?P<name>[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|da|al))"
    r"{0,4})\s*(?:[,|\-–—]\s*.*)?\W*$"
)
_SITE_WORDS = re.compile(
    r"\b(news|media|group|press|times|post|daily|herald|journal|gazette|tribune|"
    r"agency|network|tv|radio|magazine|review|wire|reuters|associated)\b",
    re.I,
)


def reflow(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines back into paragraphs; other text is returned as it is.

    Saved pages wrap at a width measured in pixels, not characters, so the break between two
    lines is read from several clues: a next line in lower case continues the sentence; a line
    that ends a sentence (or leaves room for the next word) ends its paragraph.
    """
    stripped = [line.rstrip() for line in lines]
    lengths = sorted(len(s) for s in stripped if s.strip())
    if len(lengths) < 8:
        return [s.strip() for s in stripped if s.strip()]
    width = lengths[int(0.9 * (len(lengths) - 1))]
    near_width = sum(1 for n in lengths if n >= 0.75 * width)
    if width > MAX_WRAP_WIDTH or near_width < HARD_WRAP_SHARE * len(lengths):
        return [s.strip() for s in stripped if s.strip()]
    paragraphs: list[str] = []
    current: list[str] = []
    for i, line in enumerate(stripped):
        if line.strip():
            current.append(line.strip())
        following = stripped[i + 1].strip() if i + 1 < len(stripped) else ""
        if current and _ends_paragraph(line, following, width):
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


# A line ending this much short of the wrap width had room for the next word: a real break.
WRAP_FIT_SHARE = 0.9
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]]$")


def _ends_paragraph(line: str, following: str, width: int) -> bool:
    if not line.strip() or not following:
        return True
    if following[0].islower():
        return False
    if _SENTENCE_END.search(line.strip()):
        return True
    return len(line) + 1 + len(following.split()[0]) <= WRAP_FIT_SHARE * width


def _normalise(paragraph: str) -> str:
    return re.sub(r"\W+", " ", paragraph.lower()).strip()


def drop_repeats(paragraphs: list[str]) -> list[str]:
    """Remove every copy of a paragraph that occurs more than once (captions, teasers)."""
    counts = Counter(_normalise(p) for p in paragraphs)
    return [p for p in paragraphs if counts[_normalise(p)] == 1]


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Drop furniture anywhere, then any short lines left after the last prose paragraph."""
    kept = [p for p in drop_repeats(paragraphs) if furniture_kind(p) is None]
    last_prose = max((i for i, p in enumerate(kept) if is_prose(p)), default=len(kept) - 1)
    tail = [p for p in kept[last_prose + 1 :] if word_count(p) > SHORT_LINE_WORDS and is_prose(p, 8)]
    return kept[: last_prose + 1] + tail


def extract_plaintext(text: str, url: str) -> ExtractedArticle:
    paragraphs = reflow(text.splitlines())
    first_prose = next(
        (i for i, p in enumerate(paragraphs) if is_prose(p) and not furniture_kind(p)),
        len(paragraphs),
    )
    header, body = paragraphs[:first_prose], paragraphs[first_prose:]
    title = author = sitename = None
    date = None
    title_candidates: list[str] = []
    for line in header:
        byline = _BYLINE.match(line)
        if byline:
            author = author or byline["name"]
        elif is_date_line(line):
            date = date or find_date(line)
        elif furniture_kind(line) is None and word_count(line) >= 2:
            title_candidates.append(line.strip())
    if title_candidates:
        # The headline is the longest header line; short Title Case lines naming an outlet are
        # the site name, the rest (sections, labels) is dropped.
        title = max(title_candidates, key=len)
        for line in title_candidates:
            if line != title and word_count(line) <= 5 and _SITE_WORDS.search(line):
                sitename = sitename or line
    body = clean_paragraphs(body)
    # A body that opens with a byline or date line (no header lines before it) still gives metadata.
    while body and (_BYLINE.match(body[0]) or is_date_line(body[0])):
        author = author or (m["name"] if (m := _BYLINE.match(body[0])) else None)
        date = date or find_date(body[0])
        body = body[1:]
    if title is None and body:
        title = body[0][:120]
    return ExtractedArticle(
        url=url, title=title, author=author, date=date, sitename=sitename, text="\n\n".join(body)
    )
