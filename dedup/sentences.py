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

from wirewatch.dedup.features import (
    BEYOND_BMP,
    BMP_DIGIT,
    CAPITALISED_OR_END,
    LETTER,
    STOP_WORDS,
    UPPER,
    content_frozenset,
    words_of,
    words_of_text_without_cjk,
)
from wirewatch.query import has_cjk

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
# The same opening with the BMP's digits written out (a bitmap: twice as fast as \\d), for a text
# without characters beyond the BMP.
_BMP_NUMBER = re.compile(rf"[{BMP_DIGIT}]\d*(?:[.,\u00a0\u202f]\d+)*")
_NON_DIGIT = re.compile(r"\D")
_ENDS = frozenset(".!?。！？\n")
# What terms_of takes for names, found by `re` without a Python step per capitalised word (the
# stepwise form is _terms_of_stepwise): a sentence end, the non-letters after it and the
# capitalised word opening the next sentence if it comes before any letter (not a name; the
# matches led by an end are dropped); or a capitalised word anywhere else (a name).
_NAMES = re.compile(
    rf"[.!?。！？\n{UPPER}](?:(?<=[.!?。！？\n])[\W\d_]*(?:(?<![\w'’])[{UPPER}][\w'’]*)?"
    r"|(?<![\w'’].)[\w'’]*)"
)


@dataclass(frozen=True)
class Sentence:
    text: str
    words: frozenset[str]  # content words (CJK runs as character pairs)
    terms: frozenset[str]  # names ("n:" + lower-case) and numbers ("#" + digits)
    quote: bool  # it quotes someone


_new = object.__new__


def _sentence(text: str, words: frozenset[str], terms: frozenset[str], quote: bool) -> Sentence:
    """Sentence(text, words, terms, quote) without the frozen dataclass's four object.__setattr__
    calls: the same fields in the same __dict__, in 40% of the time (45 sentences a page)."""
    sentence = _new(Sentence)
    fields = sentence.__dict__
    fields["text"] = text
    fields["words"] = words
    fields["terms"] = terms
    fields["quote"] = quote
    return sentence


def terms_of(text: str) -> frozenset[str]:
    """Numbers (digits only: "17,000-plus" and "17000" are one) and names (capitalised words not
    opening the sentence and not function words), each with its kind."""
    return _terms(text, _BMP_NUMBER if text.isascii() or not BEYOND_BMP.search(text) else _NUMBER)


def _terms(text: str, number: re.Pattern[str]) -> frozenset[str]:
    """terms_of(text) with numbers found by `number`: _BMP_NUMBER only for a text within the BMP
    (NFKC takes none of its decimal digits beyond: tests/test_reading_equivalence.py)."""
    digits = text if text.isascii() else unicodedata.normalize("NFKC", text)
    terms = {"#" + (n if n.isdecimal() else _NON_DIGIT.sub("", n)) for n in number.findall(digits)}
    # "\n" first: the first word opens the sentence.
    names = {token.lower() for token in _NAMES.findall("\n" + text) if token[0] not in _ENDS}
    names -= STOP_WORDS
    for name in names:
        terms.add("n:" + name.removesuffix("'s").removesuffix("’s"))
    return frozenset(terms)


def _terms_of_stepwise(text: str) -> frozenset[str]:
    """terms_of, one capitalised word at a time."""
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
    # words_of looks for CJK in each part: none in the text, none in a part.
    part_words_of = words_of if has_cjk(text) else words_of_text_without_cjk
    cjk_ends = "。" in text or "！" in text or "？" in text
    number = _BMP_NUMBER if text.isascii() or not BEYOND_BMP.search(text) else _NUMBER
    for part in (_SENTENCE_END if cjk_ends else _LATIN_SENTENCE_END).split(text):
        part_words = part_words_of(part)  # the spacing of a part changes none of its words
        every += part_words
        words = content_frozenset(part_words)
        if len(words) >= MIN_WORDS:
            part = " ".join(part.split())
            quote = '"' in part or "“" in part or "„" in part or "«" in part or "「" in part
            found.append(_sentence(part, words, _terms(part, number), quote))
    return found, every
