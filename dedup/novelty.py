"""What an article adds to its story: its sentences the story has not said yet, and how much news
they carry.

A sentence is already said when an earlier member makes the same statement (dedup.sentences):
copies, reordering and rewording do not count as news. Of the rest, a sentence counts as new when
it tells a name or number the story has not told, or when most of its content words are new to
the story; a reworded background paragraph does neither. Its weight: each new name or number
counts NEW_TERM_WEIGHT, a new quote QUOTE_WEIGHT, and the share of new content words the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wirewatch.dedup.sentences import Sentence, StatementIndex, sentences_of

NEW_TERM_WEIGHT = 1.0
QUOTE_WEIGHT = 0.5
# A sentence without a new name or number is new when at least this share of its words is.
NEW_WORDS_SHARE = 0.5


@dataclass(frozen=True)
class NewSentence:
    text: str
    position: int  # among the article's sentences
    weight: float
    new_terms: tuple[str, ...]  # names and numbers the story had not told


@dataclass(frozen=True)
class Novelty:
    """An article's new sentences (none for the first article of a story: all of it is new) and
    the sum of their weights."""

    sentences: tuple[NewSentence, ...]
    weight: float
    total: int  # the article's sentences

    @property
    def count(self) -> int:
        return len(self.sentences)


def article_sentences(title: str, text: str) -> list[Sentence]:
    return sentences_of(f"{title}.\n{text}" if title else text)


def story_statements(members: Iterable[tuple[str, str]]) -> StatementIndex:
    """What a story has said: its members' (title, text), oldest first."""
    index = StatementIndex()
    for title, text in members:
        for sentence in article_sentences(title, text):
            index.add(sentence)
    return index


def novelty(title: str, text: str, said: StatementIndex) -> Novelty:
    """The article's new sentences against what the story has said; `said` then holds the
    article's statements too (the next member is compared with it).

    Its headline is never a new sentence (outlets reword headlines; what one says, the text says),
    but what it says is said. A sentence that shares no content word with what the story has said
    and tells no new number is not about the story: a sign-off, a credit, a boilerplate line.
    """
    sentences = sentences_of(text)
    found: list[NewSentence] = []
    fresh: list[Sentence] = []
    for position, sentence in enumerate(sentences):
        new_terms = sorted(sentence.terms - said.terms)
        restated = said.said(sentence) or any(_same(sentence, f) for f in fresh)
        if restated and not new_terms:
            continue  # copied, reordered or reworded
        unseen = sentence.words - said.words
        new_words = len(unseen) / len(sentence.words)
        if said.words and unseen == sentence.words and not any(t[0].isdigit() for t in new_terms):
            continue  # about something else
        if not restated and not new_terms and new_words < NEW_WORDS_SHARE:
            continue  # background told in other words
        # A restated sentence with a new number or name is a changed fact ("rose to 14"): only
        # what changed counts.
        weight = NEW_TERM_WEIGHT * len(new_terms)
        if not restated:
            weight += new_words + (QUOTE_WEIGHT if sentence.quote else 0.0)
        found.append(NewSentence(sentence.text, position, round(weight, 3), tuple(new_terms)))
        fresh.append(sentence)
    for sentence in article_sentences(title, text):
        said.add(sentence)
    return Novelty(tuple(found), round(sum(s.weight for s in found), 3), len(sentences))


def _same(a: Sentence, b: Sentence) -> bool:
    return StatementIndex([b]).said(a)
