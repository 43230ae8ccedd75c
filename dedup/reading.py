"""What is read from an article's own words before it is placed: its fingerprint, its sentences
and its cross-language anchors. None of it depends on the store or on other articles, so a large
batch is read on worker processes (flows.extract_pool.ReadingOnCores) while the flow's process
places the articles read before; the single writer only compares and stores.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wirewatch.dedup.anchors import anchors_of
from wirewatch.dedup.fingerprint import FINGERPRINT_CHUNK, Fingerprint, fingerprint_many
from wirewatch.dedup.sentences import Sentence, sentences_and_words
from wirewatch.dedup.statements import Statements

# (title, text, language) of an article to read.
ArticleText = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class ArticleReading:
    fingerprint: Fingerprint
    headline: tuple[Sentence, ...]  # the title's statements (dedup.novelty)
    body: tuple[Sentence, ...]  # the text's
    anchors: frozenset[str]  # language-independent facts (dedup.anchors)
    # What headline and body say, packed to keep beside the article (dedup.statements): hashed and
    # packed here, on the workers, rather than by the single writer.
    statements: bytes


def read_many(items: Sequence[ArticleText]) -> list[ArticleReading]:
    """The reading of each article, in order (fingerprints in one call of the embedding model)."""
    # The words the sentences read are the fingerprint's: read once.
    titles = [sentences_and_words(title) for title, _, _ in items]
    texts = [sentences_and_words(text) for _, text, _ in items]
    fingerprints = fingerprint_many(
        [(title, text) for title, text, _ in items],
        [(title_words, text_words) for (_, title_words), (_, text_words) in zip(titles, texts, strict=True)],
    )
    return [
        ArticleReading(
            fp,
            tuple(headline),
            tuple(body),
            anchors_of(f"{title}\n\n{text}", language),
            Statements.of((*headline, *body)).packed(),
        )
        for (title, text, language), fp, (headline, _), (body, _) in zip(
            items, fingerprints, titles, texts, strict=True
        )
    ]


def read_in_chunks(items: Sequence[ArticleText]) -> Iterator[ArticleReading]:
    """read_many, FINGERPRINT_CHUNK articles at a time, in this process."""
    for start in range(0, len(items), FINGERPRINT_CHUNK):
        yield from read_many(items[start : start + FINGERPRINT_CHUNK])
