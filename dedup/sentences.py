"""Sentences, and when two of them say the same thing (new sentences, story summaries).

Outlets retelling a story reword, reorder and trim its sentences but keep most of their content
words; two sentences make the same statement when most of the shorter one's content words are in
the other. Names and numbers (terms_of) are kept apart: a number or a name a story
has not told before is what makes a sentence news.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from wirewatch.dedup.features import STOP_WORDS, content_words

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[^\s\da-z])|(?<=[。！？])|\n+")
# Fewer content words than this is a dateline, a caption or a sign-off, not a statement.
MIN_WORDS = 3
# Share of the shorter sentence's content words the other must have to say the same thing.
SAME_STATEMENT = 0.6


_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f]\d+)*")
_WORD_TOKEN = re.compile(r"[^\W\d_][\w'’]*|[.!?。！？]")


@dataclass(frozen=True)
class Sentence:
    text: str
    words: frozenset[str]  # content words (CJK runs as character pairs)
    terms: frozenset[str]  # names ("n:" + lower-case) and numbers ("#" + digits)
    quote: bool  # it quotes someone


def terms_of(text: str) -> frozenset[str]:
    """Numbers (digits only: "17,000-plus" and "17000" are one) and names (capitalised words not
    opening the sentence and not function words), each with its kind."""
    terms = {"#" + re.sub(r"\D", "", n) for n in _NUMBER.findall(unicodedata.normalize("NFKC", text))}
    opening = True
    for token in _WORD_TOKEN.findall(text):
        if token in ".!?。！？":
            opening = True
            continue
        if not opening and token[0].isupper() and (lower := token.lower()) not in STOP_WORDS:
            terms.add("n:" + lower.removesuffix("'s").removesuffix("’s"))
        opening = False
    return frozenset(terms)


def sentences_of(text: str) -> list[Sentence]:
    """The text's statements in order (fragments under MIN_WORDS content words left out)."""
    found = []
    for part in _SENTENCE_END.split(text):
        part = " ".join(part.split())
        words = frozenset(content_words(part))
        if len(words) >= MIN_WORDS:
            quote = any(mark in part for mark in ('"', "“", "„", "«", "「"))
            found.append(Sentence(part, words, terms_of(part), quote))
    return found


def same_statement(a: Sentence, b: Sentence) -> bool:
    shared = len(a.words & b.words)
    return shared >= 3 and shared >= SAME_STATEMENT * min(len(a.words), len(b.words))


class StatementIndex:
    """The statements a story has made, looked up by their words: a sentence is compared only
    with those sharing a word with it, not with every sentence of a large story."""

    def __init__(self, sentences: Iterable[Sentence] = ()) -> None:
        self._sentences: list[Sentence] = []
        self._by_word: dict[str, list[int]] = {}
        self.terms: set[str] = set()
        self.words: set[str] = set()
        for sentence in sentences:
            self.add(sentence)

    def add(self, sentence: Sentence) -> None:
        number = len(self._sentences)
        self._sentences.append(sentence)
        for word in sentence.words:
            self._by_word.setdefault(word, []).append(number)
        self.terms |= sentence.terms
        self.words |= sentence.words

    def said(self, sentence: Sentence) -> bool:
        """Whether an indexed sentence makes the same statement."""
        counts: dict[int, int] = {}
        for word in sentence.words:
            for number in self._by_word.get(word, ()):
                counts[number] = counts.get(number, 0) + 1
        return any(
            shared >= 3 and same_statement(sentence, self._sentences[number])
            for number, shared in counts.items()
        )

    def supporters(self, sentence: Sentence) -> list[int]:
        """The indexed sentences that make the same statement (their positions)."""
        counts: dict[int, int] = {}
        for word in sentence.words:
            for number in self._by_word.get(word, ()):
                counts[number] = counts.get(number, 0) + 1
        return sorted(
            n for n, shared in counts.items() if shared >= 3 and same_statement(sentence, self._sentences[n])
        )
