"""The story index's shared arrays answer as the dicts they replaced, through the adds, removals and
merges of a window that keeps moving."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from wirewatch.dedup.article_table import (
    ArticleTable,
    Candidates,
    IndexedArticle,
    copy_score,
    low_bits,
    quantized,
    word_values,
)
from wirewatch.dedup.pair_counts import PairCounts


def _terms(rng: random.Random, count: int) -> np.ndarray:
    return np.unique(np.array([rng.randrange(1, 400) for _ in range(count)], dtype=np.uint32))


def test_pair_counts_match_a_counter_per_term_through_adds_removals_and_merges() -> None:
    rng = random.Random(3)
    ours, reference = PairCounts(), {}  # reference: term -> Counter(story -> uses)
    articles: list[tuple[np.ndarray, int | None]] = []
    for n in range(6000):  # enough pairs for many merges of the pending ones, and purges
        terms = _terms(rng, 12)
        story = None if n % 97 == 0 else rng.randrange(300)
        ours.add(terms, story)
        for t in terms.tolist():
            reference.setdefault(t, Counter())[story] += 1
        articles.append((terms, story))
        if n % 3 == 0:  # the oldest leaves the window
            old_terms, old_story = articles.pop(0)
            ours.remove(old_terms, old_story)
            for t in old_terms.tolist():
                reference[t][old_story] -= 1
                reference[t] = +reference[t]
        if n % 250 == 0:  # a story merged into another: all its uses move
            source, target = rng.randrange(300), rng.randrange(300)
            moved = Counter()
            for t, stories in reference.items():
                if stories.get(source, 0) and source != target:
                    moved[t] = stories.pop(source)
                    stories[target] += moved[t]
            if moved:
                terms = np.array(sorted(moved), dtype=np.uint32)
                counts = np.array([moved[t] for t in terms.tolist()], dtype=np.int32)
                ours.remove(terms, source, counts)
                ours.add(terms, target, counts)
            articles = [(t, target if s == source else s) for t, s in articles]
    every = np.arange(1, 400, dtype=np.uint32)
    assert ours.story_counts(every).tolist() == [len(reference.get(t, ())) for t in every.tolist()]
    assert ours.total_counts(every).tolist() == [
        sum(reference.get(t, Counter()).values()) for t in every.tolist()
    ]
    for t in every.tolist():
        assert ours.stories(t) == dict(reference.get(t, {}))


def _entry(article_id: int, rng: random.Random) -> IndexedArticle:
    return IndexedArticle(
        article_id=article_id,
        cluster_id=article_id % 7 or None,
        seen=None if article_id % 5 == 0 else float(article_id),
        arrived=float(article_id),
        shingle_values=np.array([rng.randrange(1 << 32) for _ in range(128)], dtype=np.uint32),
        lsh_values=np.zeros(0, dtype=np.uint32),
        salient_hashes=_terms(rng, rng.randrange(0, 30)),
        word_hashes=_terms(rng, rng.randrange(0, 200)),
        title_hashes=_terms(rng, rng.randrange(0, 9)),
        embedding=np.array([rng.random() for _ in range(256)], dtype=np.float16),
    )


def test_article_table_rows_survive_slot_reuse_and_pool_compaction() -> None:
    rng = random.Random(5)
    table, live = ArticleTable(capacity=16), {}
    for article_id in range(4000):
        entry = _entry(article_id, rng)
        table.add(entry)
        live[article_id] = entry
        if rng.random() < 0.55:  # more leave than stay: freed slots are reused, the pool compacted
            gone = rng.choice(sorted(live))
            table.remove(gone)
            del live[gone]
    assert len(table) == len(live)
    for article_id, entry in live.items():
        row = table.row(table.slot(article_id))
        assert (row.article_id, row.cluster_id, row.seen, row.arrived) == (
            entry.article_id,
            entry.cluster_id,
            entry.seen,
            entry.arrived,
        )
        for field in ("salient_hashes", "title_hashes"):
            assert np.array_equal(getattr(row, field), getattr(entry, field)), field
        assert np.array_equal(row.word_hashes, word_values(entry.word_hashes))
        assert np.array_equal(row.shingle_values, low_bits(entry.shingle_values))
        # The embedding as kept (int8 and a scale): its direction is the entry's to 0.001.
        codes, scales = quantized(entry.embedding)
        assert np.array_equal(row.embedding, codes[0] * np.float32(scales[0]))
        kept = row.embedding / np.linalg.norm(row.embedding)
        assert float(kept @ (entry.embedding / np.linalg.norm(entry.embedding))) > 0.999
    ids = sorted(live)[:50]
    batch = table.candidates(np.array([table.slot(a) for a in ids]))
    expected = Candidates.of([live[a] for a in ids])
    assert batch.ids == expected.ids
    assert np.array_equal(batch.words, expected.words)
    assert np.array_equal(batch.word_counts, expected.word_counts)
    assert np.array_equal(batch.shingles, expected.shingles)


def test_copy_score_from_low_bits_estimates_the_shingle_jaccard() -> None:
    """8 low bits of each MinHash value, less the chance agreement: the estimate of the full
    values' share of equal values, so the 0.5 copy threshold decides as on full values."""
    rng = np.random.default_rng(5)
    full = rng.integers(0, 1 << 32, size=(2000, 128), dtype=np.uint64).astype(np.uint32)
    for share in (0.0, 0.3, 0.5, 0.8, 1.0):
        other = full.copy()
        changed = rng.random(full.shape) >= share
        other[changed] = rng.integers(0, 1 << 32, size=int(changed.sum()), dtype=np.uint64).astype(np.uint32)
        true = (other == full).mean(axis=1)
        estimate = np.array([copy_score(low_bits(other[i])[None, :], full[i])[0] for i in range(len(full))])
        assert abs(float(estimate.mean() - true.mean())) < 0.005, share
    assert copy_score(low_bits(full[:1]), full[0])[0] == 1.0


@pytest.mark.parametrize("stored_before", [False, True], ids=["stored-as-kept", "stored-wide"])
def test_a_table_filled_in_one_piece_holds_what_one_by_one_holds(stored_before: bool) -> None:
    """A run's start fills the table from the store's columns (add_many); every row must read as
    the same article added alone, whether its words were stored as the index keeps them (16-bit)
    or, stored before that, as 32-bit hashes that add_many reduces."""
    rng = random.Random(11)
    entries = [_entry(article_id, rng) for article_id in range(300)]
    twin = entries[0].word_hashes
    if stored_before:  # words that share their low 16 bits: word_values() merges them
        doubled = np.unique(np.concatenate([twin, twin[:5] + np.uint32(1 << 16)]))
        entries[0] = replace(entries[0], word_hashes=doubled)
    one_by_one, at_once = ArticleTable(capacity=8), ArticleTable(capacity=8)
    for entry in entries:
        one_by_one.add(entry)
    words = np.concatenate([e.word_hashes for e in entries])
    terms = np.concatenate([np.concatenate((e.title_hashes, e.salient_hashes)) for e in entries])
    lengths = np.array([(len(e.word_hashes), len(e.title_hashes), len(e.salient_hashes)) for e in entries])
    at_once.add_many(
        np.array([e.article_id for e in entries]),
        np.array([e.cluster_id or -1 for e in entries]),
        np.array([np.nan if e.seen is None else e.seen for e in entries]),
        np.array([e.arrived for e in entries]),
        np.stack([e.shingle_values for e in entries]),
        np.stack([e.embedding for e in entries]),
        words.astype(np.uint32),
        terms.astype(np.uint32),
        lengths,
    )
    assert len(at_once.hashes(at_once.slot(0), 0)) == len(word_values(twin))
    for entry in entries:
        a, b = one_by_one.row(one_by_one.slot(entry.article_id)), at_once.row(at_once.slot(entry.article_id))
        for field in ("word_hashes", "title_hashes", "salient_hashes", "shingle_values", "embedding"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (entry.article_id, field)
    slots = np.array([at_once.slot(e.article_id) for e in entries])
    assert np.array_equal(at_once.shorts(slots), one_by_one.shorts(slots))
