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
from wirewatch.dedup.runs import (
    SLICED_RUNS,
    SORTED_NEEDLES,
    run_positions,
    run_sums,
    run_values,
    search_bounds,
)
from wirewatch.dedup.story_vectors import StoryVectors


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


def test_a_table_filled_in_one_piece_holds_what_one_by_one_holds() -> None:
    """A run's start fills the table from the store's columns (add_many, in the form the table
    keeps them); every row must read as the same article added alone."""
    rng = random.Random(11)
    entries = [_entry(article_id, rng) for article_id in range(300)]
    twin = entries[0].word_hashes
    # words that share their low 16 bits: the table keeps them once (word_values())
    entries[0] = replace(
        entries[0], word_hashes=np.unique(np.concatenate([twin, twin[:5] + np.uint32(1 << 16)]))
    )
    one_by_one, at_once = ArticleTable(capacity=8), ArticleTable(capacity=8)
    for entry in entries:
        one_by_one.add(entry)
    kept_words = [word_values(e.word_hashes) for e in entries]
    terms = np.concatenate([np.concatenate((e.title_hashes, e.salient_hashes)) for e in entries])
    lengths = np.array(
        [
            (len(w), len(e.title_hashes), len(e.salient_hashes))
            for w, e in zip(kept_words, entries, strict=True)
        ]
    )
    at_once.add_many(
        np.array([e.article_id for e in entries]),
        np.array([e.cluster_id or -1 for e in entries]),
        np.array([np.nan if e.seen is None else e.seen for e in entries]),
        np.array([e.arrived for e in entries]),
        low_bits(np.stack([e.shingle_values for e in entries])),
        *quantized(np.stack([e.embedding for e in entries])),
        np.concatenate(kept_words),
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


def test_pairs_added_and_removed_at_once_count_as_one_by_one() -> None:
    """PairCounts.add_pairs and remove_pairs (many articles at once, pairs repeating) give the counts
    and story-count changes add() and remove() of each article in turn give, arrays and pending alike."""
    rng = random.Random(8)
    ours, reference = PairCounts(), PairCounts()
    for _ in range(3000):  # arrays and pending pairs both in play
        terms, story = _terms(rng, 12), rng.randrange(200)
        ours.add(terms, story)
        reference.add(terms, story)
    ours.watch()
    reference.watch()
    for _ in range(40):
        batch = [(_terms(rng, 12), rng.randrange(220)) for _ in range(rng.randrange(1, 30))]
        for terms, story in batch:
            reference.add(terms, story)
        codes = np.concatenate([np.full(len(t), s, dtype=np.uint32) for t, s in batch])
        ours.add_pairs(np.concatenate([t for t, _ in batch]), codes)
        assert {t: c for t, c in (ours.changes or {}).items() if c} == {
            t: c for t, c in (reference.changes or {}).items() if c
        }
        if rng.random() < 0.5:  # removals, at once and one by one
            leaving = batch[: len(batch) // 2 + 1]
            for terms, story in leaving:
                reference.remove(terms, story)
            codes = np.concatenate([np.full(len(t), s, dtype=np.uint32) for t, s in leaving])
            ours.remove_pairs(np.concatenate([t for t, _ in leaving]), codes)
    every = np.arange(1, 400, dtype=np.uint32)
    assert np.array_equal(ours.story_counts(every), reference.story_counts(every))
    assert np.array_equal(ours.total_counts(every), reference.total_counts(every))
    assert all(ours.stories(t) == reference.stories(t) for t in range(1, 400, 7))


def test_a_table_put_at_once_holds_what_one_by_one_holds() -> None:
    """ArticleTable.put_many takes the slots add() of each would (freed ones first) and holds the
    same rows."""
    rng = random.Random(9)
    ours, reference = ArticleTable(capacity=8), ArticleTable(capacity=8)
    entries = [_entry(n, rng) for n in range(300)]
    for table in (ours, reference):
        for entry in entries[:100]:
            table.add(entry)
        for entry in entries[10:60:3]:
            table.remove(entry.article_id)
    for start in range(100, 300, 40):
        part = entries[start : start + 40]
        slots = [reference.add(entry) for entry in part]
        assert ours.put_many(part, [word_values(e.word_hashes) for e in part]).tolist() == slots
    for entry in entries[:100:7] + entries[100::3]:
        if entry.article_id not in reference:
            continue
        a, b = ours.row(ours.slot(entry.article_id)), reference.row(reference.slot(entry.article_id))
        for name in ("article_id", "cluster_id", "seen", "arrived"):
            assert getattr(a, name) == getattr(b, name)
        for name in ("shingle_values", "salient_hashes", "word_hashes", "title_hashes", "embedding"):
            assert np.array_equal(getattr(a, name), getattr(b, name))


def test_vectors_added_and_removed_in_turn_are_as_one_by_one() -> None:
    """StoryVectors.add_in_turn and remove_in_turn: the same sums bit for bit (a story's vectors
    added in order), rows for new stories in the order add() gives them, freed as remove() frees."""
    rng = np.random.default_rng(10)
    ours, reference = StoryVectors(), StoryVectors()
    for _ in range(30):
        stories: list[int | None] = [
            None if s == 0 else int(s) for s in rng.integers(0, 120, size=int(rng.integers(1, 50)))
        ]
        vectors = rng.standard_normal((len(stories), 256)).astype(np.float32)
        for story, vector in zip(stories, vectors, strict=True):
            reference.add(story, vector)
        ours.add_in_turn(stories, vectors)
        if rng.random() < 0.5:  # some leave again, emptying stories (their rows freed in order)
            chosen = set(list(dict.fromkeys(stories))[::2])
            leaving = [k for k, story in enumerate(stories) if story in chosen]
            for k in leaving:
                reference.remove(stories[k], vectors[k])
            ours.remove_in_turn([stories[k] for k in leaving], vectors[leaving])
            assert ours._free == reference._free
    assert ours._row == reference._row
    assert np.array_equal(ours._sums.view(np.uint32), reference._sums.view(np.uint32))
    assert np.array_equal(ours._counts, reference._counts)


def test_run_sums_are_each_runs_sum() -> None:
    """run_sums (the shared-word counts of every pair a chunk compares) sums each run, empty runs
    anywhere included."""
    rng = np.random.default_rng(8)
    for _ in range(2000):
        sizes = rng.integers(0, 5, size=int(rng.integers(0, 9)))
        sizes[rng.random(len(sizes)) < 0.3] = 0
        for dtype in (bool, np.uint16, np.int64):
            values = rng.integers(0, 3, size=int(sizes.sum())).astype(dtype)
            starts = np.cumsum(sizes) - sizes
            expected = [int(values[a : a + n].sum()) for a, n in zip(starts, sizes, strict=True)]
            assert run_sums(values, sizes).tolist() == expected


@pytest.mark.parametrize("longest", [4, 4 * SLICED_RUNS])
def test_runs_gathered_as_slices_or_positions_are_the_runs(longest: int) -> None:
    """run_values (a chunk's candidates' words, a pool's compaction) reads each run in turn,
    whether its runs are short (through their positions) or long (as slices)."""
    rng = np.random.default_rng(9)
    values = rng.integers(0, 1 << 16, size=20 * longest).astype(np.uint16)
    for _ in range(300):
        sizes = rng.integers(0, longest, size=int(rng.integers(0, 12)))
        starts = rng.integers(0, len(values) - longest, size=len(sizes))
        assert np.array_equal(run_values(values, starts, sizes), values[run_positions(starts, sizes)])


@pytest.mark.parametrize("needles", [SORTED_NEEDLES // 4, 4 * SORTED_NEEDLES])
def test_range_bounds_are_numpys_whether_the_needles_are_sorted_first_or_not(needles: int) -> None:
    """search_bounds (band-key lookups, term ranges) finds each range's two ends where
    np.searchsorted does, for few needles (searched as given) and many (searched sorted)."""
    rng = np.random.default_rng(10)
    for _ in range(50):
        haystack = np.sort(rng.integers(0, 500, size=int(rng.integers(0, 2000)))).astype(np.uint32)
        lows = rng.integers(0, 520, size=needles).astype(np.uint32)
        highs = lows + rng.integers(0, 3, size=needles).astype(np.uint32)
        starts, ends = search_bounds(haystack, lows, highs)
        assert np.array_equal(starts, np.searchsorted(haystack, lows, side="left"))
        assert np.array_equal(ends, np.searchsorted(haystack, highs, side="right"))
        assert np.array_equal(search_bounds(haystack, lows, None)[0], starts)
