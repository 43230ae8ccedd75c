"""What a story has said: sentences compared by their content words (dedup.sentences reads them),
packed to keep beside an article, and indexed by word to find those making the same statement.

Two sentences make the same statement when most of the shorter one's content words are in the other.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import chain

from wirewatch.dedup.sentences import Sentence

# Share of the shorter sentence's content words the other must have to say the same thing.
SAME_STATEMENT = 0.6


def packed(sentences: Iterable[Sentence]) -> bytes:
    """What sentences say (words, terms, quote; not their text), zlib-packed, to keep beside an
    article: StatementIndex.add_packed reads them back without splitting its text. About half
    the size of the text (level 1: the single writer packs every article; 6 saved 10-15% more
    for 2.5x the time)."""
    said = [[sorted(s.words), sorted(s.terms), int(s.quote)] for s in sentences]
    return zlib.compress(json.dumps(said, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def _said_in(raw: bytes) -> Iterator[tuple[list[str], list[str]]]:
    """The content words and terms of each sentence packed() kept."""
    for words, terms, _ in json.loads(zlib.decompress(raw)):
        yield words, terms


def same_statement(a: Sentence, b: Sentence) -> bool:
    shared = len(a.words & b.words)
    return shared >= 3 and shared >= SAME_STATEMENT * min(len(a.words), len(b.words))


class StatementIndex:
    """The statements a story has made, looked up by their words: a sentence is compared only
    with those sharing a word with it, not with every sentence of a large story.

    With `distinct`, a sentence already indexed word for word (twenty copies of a wire story) is
    indexed once: what is said is the same, and lookups stay as fast as for one copy. Without it,
    positions are insertion order (dedup.summary counts on that).
    """

    def __init__(self, sentences: Iterable[Sentence] = (), *, distinct: bool = False) -> None:
        self._sizes: list[int] = []  # the indexed sentences' content words' counts, by position
        self._by_word: defaultdict[str, list[int]] = defaultdict(list)
        self._distinct = distinct
        self._seen: set[frozenset[str]] = set()
        self.terms: set[str] = set()
        self.words: set[str] = set()
        for sentence in sentences:
            self.add(sentence)

    def add(self, sentence: Sentence) -> None:
        self._add(sentence.words, sentence.terms)

    def add_packed(self, raw: bytes) -> None:
        """Add the sentences packed() kept, without making a Sentence of each (a story's members
        are read back every run: a third of the cost)."""
        for words, terms in _said_in(raw):
            self._add(frozenset(words), terms)

    def _add(self, words: frozenset[str], terms: Iterable[str]) -> None:
        self.terms.update(terms)
        if self._distinct:
            if words in self._seen:
                return
            self._seen.add(words)
        number = len(self._sizes)
        self._sizes.append(len(words))
        by_word = self._by_word
        for word in words:
            by_word[word].append(number)
        self.words |= words

    def _shared(self, sentence: Sentence) -> Counter[int] | None:
        """How many content words each indexed sentence shares with this one (None when fewer
        than 3 words are in common with all of them at once, so with any one)."""
        lists = [self._by_word[w] for w in sentence.words & self.words]
        return Counter(chain.from_iterable(lists)) if len(lists) >= 3 else None

    def _same(self, sentence: Sentence, shared_counts: Counter[int] | None) -> Iterator[int]:
        """Positions of the indexed sentences making the same statement (same_statement)."""
        size, sizes = len(sentence.words), self._sizes
        for number, shared in (shared_counts or {}).items():
            if shared >= 3 and shared >= SAME_STATEMENT * min(size, sizes[number]):
                yield number

    def said(self, sentence: Sentence) -> bool:
        """Whether an indexed sentence makes the same statement."""
        if self._distinct and sentence.words in self._seen:
            return True
        shared_counts = self._shared(sentence)
        if shared_counts is None:
            return False
        most = max(shared_counts.values())
        if most < 3:
            return False
        if most >= SAME_STATEMENT * len(sentence.words):  # enough whatever the other's length
            return True
        # Short of this one's share: only a shorter sentence, sharing its own share, can match.
        sizes = self._sizes
        return any(shared >= 3 and shared >= SAME_STATEMENT * sizes[n] for n, shared in shared_counts.items())

    def supporters(self, sentence: Sentence) -> list[int]:
        """The indexed sentences that make the same statement (their positions)."""
        return sorted(self._same(sentence, self._shared(sentence)))
