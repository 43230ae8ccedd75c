"""Per-source templates: paragraphs that recur across pages of one source are its furniture.

A site's own recurring blocks (a membership pitch, a tips-line plug, a funding note) take any
wording, so no fixed rule can know them; what gives them away is that the same paragraph shows
up on page after page of that source. The store counts, per source, on how many pages each
paragraph appeared; here are the pure parts: the paragraph key and the stripping.
"""

from __future__ import annotations

import hashlib
import re

# A paragraph seen on this many pages of one source is template. Three, not two: two articles
# of one source sharing a sentence (a quote, a correction) is common; three rarely is.
TEMPLATE_MIN_PAGES = 3
# Template blocks are short; a long paragraph on three pages is a re-run of an article.
TEMPLATE_MAX_WORDS = 60
# If stripping would take more than this share of a page's words, the page is a re-run of a
# known article (same text, new URL), not one full of furniture: leave it whole.
TEMPLATE_MAX_SHARE = 0.3

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


def paragraph_key(paragraph: str) -> str:
    """Words only, numbers blanked: '3 Comments' and '5 Comments' are one template line."""
    words = " ".join(_WORD.findall(_DIGITS.sub("0", paragraph.lower())))
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).hexdigest()


def paragraphs_of(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def template_candidates(text: str) -> tuple[str, ...]:
    """Distinct keys of the paragraphs that could be template (short ones), in page order."""
    keys = (paragraph_key(p) for p in paragraphs_of(text) if len(p.split()) <= TEMPLATE_MAX_WORDS)
    return tuple(dict.fromkeys(keys))


def strip_template(text: str, template: set[str]) -> str:
    paragraphs = paragraphs_of(text)
    kept = [p for p in paragraphs if paragraph_key(p) not in template]
    removed_words = sum(len(p.split()) for p in paragraphs) - sum(len(p.split()) for p in kept)
    if not kept or removed_words > TEMPLATE_MAX_SHARE * sum(len(p.split()) for p in paragraphs):
        return text
    return "\n\n".join(kept)
