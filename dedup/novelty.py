"""What an article adds to its story: its sentences the story has not said yet, and how much news
they carry.

A sentence is already said when an earlier member makes the same statement (dedup.statements):
copies, reordering and rewording do not count as news. Facts are what counts: a number the story
has not told weighs NUMBER_WEIGHT, a name NAME_WEIGHT (rewrites name the same actors differently,
"Beijing" for "China", so less), and a quote the story has not had QUOTE_WEIGHT. A sentence that
restates an earlier one with a new number is a changed fact ("the toll rose to 14"). A sentence
with none of these is reworded background, however new its words.

The weights and alerts.policy.DEVELOPMENT_WEIGHT were chosen by leave-one-story-out
cross-validation on benchmarks/data/developments (`python -m benchmarks.developments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wirewatch.dedup.sentences import Sentence, sentences_of
from wirewatch.dedup.statements import StatementIndex, Statements, same_statement

NUMBER_WEIGHT = 1.0
NAME_WEIGHT = 0.5
QUOTE_WEIGHT = 0.5


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
    """What an article says: its headline's statements and its text's."""
    return [*sentences_of(title), *sentences_of(text)]


def novelty(title: str, text: str, said: StatementIndex) -> Novelty:
    """novelty_of an article's title and text."""
    return novelty_of(sentences_of(title), sentences_of(text), said)


def novelty_of(
    headline: Sequence[Sentence],
    body: Sequence[Sentence],
    said: StatementIndex,
    statements: Statements | None = None,
) -> Novelty:
    """The new sentences of an article's text (`body`) against what the story has said; `said`
    then holds the article's statements too, its headline's first (the next member is compared
    with it). `statements`: Statements.of((*headline, *body)), when the caller has it.

    Its headline is never a new sentence (outlets reword headlines; what one says, the text says),
    but what it says is said. A sentence that shares no content word with what the story has said
    and tells no new number is not about the story: a credit, a boilerplate line.
    """
    if statements is None:
        statements = Statements.of((*headline, *body))
    at = len(headline)  # the body's first sentence among the statements
    shares = said.shares(statements)[at:]
    new_terms = [sorted(sentence.terms - said.terms) for sentence in body]
    numbers = [sum(t.startswith("#") for t in terms) for terms in new_terms]
    about = [bool(shares[k] or numbers[k] or not len(said)) for k in range(len(body))]
    # A restated sentence counts only its changed numbers: whether it is restated matters only for
    # a sentence with a new name or a quote. All of them are looked up at once.
    asked = [k for k, s in enumerate(body) if about[k] and (len(new_terms[k]) > numbers[k] or s.quote)]
    restated = dict(zip(asked, said.said(statements, [at + k for k in asked]).tolist(), strict=True))
    found: list[NewSentence] = []
    fresh: list[Sentence] = []
    for position, sentence in enumerate(body):
        if not about[position]:
            continue  # shares nothing with the story: not about it
        weight = NUMBER_WEIGHT * numbers[position]
        if position in restated and not (
            restated[position] or any(same_statement(sentence, f) for f in fresh)
        ):
            count = len(new_terms[position]) - numbers[position]
            weight += NAME_WEIGHT * count + (QUOTE_WEIGHT if sentence.quote else 0.0)
        if weight > 0:
            found.append(NewSentence(sentence.text, position, round(weight, 3), tuple(new_terms[position])))
            fresh.append(sentence)
    said.add(statements)
    return Novelty(tuple(found), round(sum(s.weight for s in found), 3), len(body))
