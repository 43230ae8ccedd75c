"""A story's summary: the sentences most of its sources agree on (extractive, no model).

Every outlet retelling a story keeps its core facts and adds its own colour, quotes and
boilerplate. A statement several sources make is the story; one only a single outlet wrote is
that outlet's. So a sentence's support is the number of distinct sources with a sentence making
the same statement (dedup.statements.same_statement), and the summary is the best-supported
statements, each in the words of the article that said it first, in the order the story told them.

Cost: every sentence is looked up in a word index of the others, so a summary reads at most
MAX_SENTENCES sentences of each of MAX_EARLY + MAX_LATE members (the earliest ones, which set
the story's facts, and the latest ones, which carry what it has become): a 500-article story
costs what a 30-article one does.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirewatch.dedup.sentences import Sentence, sentences_of
from wirewatch.dedup.statements import StatementIndex, Statements, same_statement

# Members read: the earliest MAX_EARLY and the latest MAX_LATE (30 at most).
MAX_EARLY = 10
MAX_LATE = 20
# Sentences read per member: a story's statements are in its first paragraphs, and what comes
# after in a long piece is background no other source repeats.
MAX_SENTENCES = 40


@dataclass(slots=True)
class _Said:
    sentence: Sentence
    order: tuple[int, int]  # where it first appears: (member, position), oldest article first
    sources: set[str]  # every source that printed these exact words


def story_summary(members: list[tuple[str, str]], limit: int = 3) -> list[str]:
    """Up to `limit` sentences of a story, the statements the most sources make.

    `members` are the story's articles as (source, text), oldest first. Each statement is given
    in its earliest wording, and the sentences come in the order they first appear; a one-article
    story summarises to its lead (its first `limit` sentences).
    """
    if limit <= 0 or not members:
        return []
    if len(members) > MAX_EARLY + MAX_LATE:
        members = members[:MAX_EARLY] + members[-MAX_LATE:]
    if len(members) == 1:
        return [s.text for s in sentences_of(members[0][1])[:limit]]

    # Wire copies repeat sentences word for word: each distinct wording is indexed once, with the
    # sources that printed it, so twenty copies of one story cost what one does.
    said: list[_Said] = []
    wordings: dict[str, _Said] = {}
    for member, (source, text) in enumerate(members):
        for position, sentence in enumerate(sentences_of(text)[:MAX_SENTENCES]):
            if (known := wordings.get(sentence.text)) is not None:
                known.sources.add(source)
                continue
            wordings[sentence.text] = entry = _Said(sentence, (member, position), {source})
            said.append(entry)
    statements = Statements.of(entry.sentence for entry in said)
    index = StatementIndex()
    index.add(statements)  # positions in the index are positions in `said`

    # Per wording: the distinct sources that make its statement, and its earliest wording
    # (supporters are sorted, and `said` is in story order, so the first is the earliest).
    ranked = []
    for entry, backing in zip(said, index.supporters(statements), strict=True):  # each backs itself
        support = len({source for n in backing for source in said[n].sources})
        first = said[backing[0]] if backing else entry
        ranked.append((-support, first.order, entry, first))
    ranked.sort(key=lambda r: (r[0], r[1], r[2].order))

    chosen: list[tuple[_Said, _Said]] = []
    for _, _, entry, first in ranked:
        if len(chosen) == limit:
            break
        # same_statement is not transitive: a later rewording can match the first wording of a
        # statement already chosen without matching the chosen sentence itself, so both count.
        mine = (entry.sentence, first.sentence)
        if any(
            same_statement(a, b)
            for picked in chosen
            for a in mine
            for b in (picked[0].sentence, picked[1].sentence)
        ):
            continue
        chosen.append((entry, first))
    return [first.sentence.text for _, first in sorted(chosen, key=lambda c: c[1].order)]
