"""The statement index answers as the rule on word sets it stands for (dedup.statements.same_statement),
and what a store kept in the packed form of schema v14-v17 reads back as it does in today's."""

from __future__ import annotations

import json
import random
import zlib

import numpy as np

from wirewatch.dedup.sentences import Sentence, sentences_of
from wirewatch.dedup.statements import StatementIndex, Statements, same_statement


def _sentence(rng: random.Random, vocabulary: list[str]) -> Sentence:
    words = frozenset(rng.sample(vocabulary, rng.randrange(3, 14)))
    terms = frozenset(rng.sample(["#12", "#2024", "n:seoul", "n:un", "n:nebenzya"], rng.randrange(0, 3)))
    return Sentence(" ".join(sorted(words)), words, terms, rng.random() < 0.2)


def test_lookups_answer_as_the_word_set_rule_through_many_adds() -> None:
    """Sentences drawn from a small vocabulary, so that many share 3 or more words and some are
    the same statement without being the same sentence; some are repeated word for word."""
    rng = random.Random(7)
    vocabulary = [f"w{k}" for k in range(40)]
    kept = {}
    for distinct in (False, True):
        index, indexed = StatementIndex(distinct=distinct), []
        for _ in range(60):  # one article at a time, as a story's members arrive
            article = [_sentence(rng, vocabulary) for _ in range(rng.randrange(0, 8))]
            article += rng.sample(indexed, min(len(indexed), 2))  # copies of what was said
            statements = Statements.of(article)
            said = index.said(statements, range(len(article)))
            shares = index.shares(statements)
            words = set().union(*(s.words for s in indexed))
            for k, sentence in enumerate(article):
                assert said[k] == any(same_statement(sentence, s) for s in indexed)
                assert shares[k] == bool(sentence.words & words)
            index.add(statements)
            indexed += article
        assert index.terms == set().union(*(s.terms for s in indexed))
        assert len(index) == (len({s.words for s in indexed}) if distinct else len(indexed))
        kept[distinct] = index, indexed
    index, indexed = kept[False]  # every sentence, in the order added
    found = index.supporters(Statements.of(indexed))
    assert found == [[n for n, s in enumerate(indexed) if same_statement(q, s)] for q in indexed]
    assert StatementIndex().supporters(Statements.of(indexed[:3])) == [[], [], []]


def test_what_older_stores_kept_reads_back_as_what_is_kept_now() -> None:
    text = (
        "The Security Council met on Friday to vote on the sanctions panel. "
        "Russia's envoy Vassily Nebenzya said the panel had outlived its purpose. "
        'South Korea called the veto "a reckless act" and said 13 members had voted in favour.'
    )
    sentences = sentences_of(text)
    older = zlib.compress(
        json.dumps([[sorted(s.words), sorted(s.terms), int(s.quote)] for s in sentences]).encode(), 1
    )
    for raw in (older, Statements.of(sentences).packed()):
        back = Statements.unpacked(raw)
        now = Statements.of(sentences)
        assert np.array_equal(back.hashes, now.hashes) and np.array_equal(back.sizes, now.sizes)
        assert back.terms == now.terms == frozenset().union(*(s.terms for s in sentences))
    empty = Statements.unpacked(Statements.of([]).packed())
    assert (len(empty), len(empty.hashes), empty.terms) == (0, 0, frozenset())
