"""An article's sentences as statements: their content words, names and numbers (new sentences,
story summaries; dedup.statements compares them).

Outlets retelling a story reword, reorder and trim its sentences but keep most of their content
words. Names and numbers (terms_of) are kept apart: a number or a name a story has not told before
is what makes a sentence news.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from wirewatch.dedup.features import CAPITALISED_OR_END, LETTER, STOP_WORDS, content_words_of, words_of

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[^\s\da-z])|(?<=[。！？])|\n+")
# The same for a text without 。！？: opening with one character class (the lookbehinds checked after
# it), `re` skips to candidates in C instead of trying every position (a fifth of sentences_of).
_LATIN_SENTENCE_END = re.compile(
    r"[\"'”’)\s](?:(?<=[.!?][\"'”’)])[\"'”’)]*\s+(?=[\"'“‘(]?[^\s\da-z])"
    r"|(?<=[.!?]\s)\s*(?=[\"'“‘(]?[^\s\da-z])|(?<=\n)\n*)"
)
# Fewer content words than this is a dateline, a caption or a sign-off, not a statement.
MIN_WORDS = 3


_NUMBER = re.compile(r"\d\d*(?:[.,\u00a0\u202f]\d+)*")  # one class first: see _LATIN_SENTENCE_END
_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class Sentence:
    text: str
    words: frozenset[str]  # content words (CJK runs as character pairs)
    terms: frozenset[str]  # names ("n:" + lower-case) and numbers ("#" + digits)
    quote: bool  # it quotes someone


def terms_of(text: str) -> frozenset[str]:
    """Numbers (digits only: "17,000-plus" and "17000" are one) and names (capitalised words not
    opening the sentence and not function words), each with its kind."""
    digits = text if text.isascii() else unicodedata.normalize("NFKC", text)
    terms = {"#" + _NON_DIGIT.sub("", n) for n in _NUMBER.findall(digits)}
    opening = True
    last_end = 0
    for match in CAPITALISED_OR_END.finditer(text):
        token = match[0]
        if token in ".!?。！？\n":
            opening = True
        else:
            if opening and LETTER.search(text, last_end, match.start()):
                opening = False  # a lower-case word came first
            if not opening and (lower := token.lower()) not in STOP_WORDS:
                terms.add("n:" + lower.removesuffix("'s").removesuffix("’s"))
            opening = False
        last_end = match.end()
    return frozenset(terms)


def sentences_of(text: str) -> list[Sentence]:
    """The text's statements in order (fragments under MIN_WORDS content words left out)."""
    return sentences_and_words(text)[0]


def sentences_and_words(text: str) -> tuple[list[Sentence], list[str]]:
    """sentences_of(text), and words_of(text) read on the way: the parts hold every word of the
    text (a split never falls inside a word, and the case of a Σ does not see past the space or
    the 。 between parts), so the fingerprint does not read them again."""
    found = []
    every: list[str] = []
    cjk_ends = "。" in text or "！" in text or "？" in text
    for part in (_SENTENCE_END if cjk_ends else _LATIN_SENTENCE_END).split(text):
        part_words = words_of(part)  # the spacing of a part changes none of its words
        every += part_words
        words = frozenset(content_words_of(part_words))
        if len(words) >= MIN_WORDS:
            part = " ".join(part.split())
            quote = any(mark in part for mark in ('"', "“", "„", "«", "「"))
            found.append(Sentence(part, words, terms_of(part), quote))
    return found, every
