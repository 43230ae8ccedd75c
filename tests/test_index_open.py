"""Opening the story index (StoryIndex.add_stored) in whole arrays decides as the one-by-one and
reference computations do: the same band keys, story centroids (bit for bit) and quantised rows."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from wirewatch.dedup.article_table import IndexedArticle, low_bits, quantized, word_values
from wirewatch.dedup.band_index import _SALT, BandIndex
from wirewatch.dedup.index import StoryIndex
from wirewatch.dedup.stored_form import stored_fingerprint
from wirewatch.dedup.story_vectors import StoryVectors
from wirewatch.records import StoredFingerprint, StoredWindow


def reference_keys(index: BandIndex, values: np.ndarray) -> np.ndarray:
    """The band keys as first defined: each band's values mixed by its multipliers, summed."""
    rows = values[:, : index.bands * index.rows].astype(np.uint64)
    bands = rows.reshape(len(values), index.bands, index.rows)
    with np.errstate(over="ignore"):
        mixed = (bands * index._mix).sum(axis=2, dtype=np.uint64) + _SALT[: index.bands]
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(32)
    return (mixed >> np.uint64(32)).astype(np.uint32)


def test_band_keys_are_the_reference_keys() -> None:
    values = np.random.default_rng(1).integers(0, 2**32, size=(300, 128), dtype=np.uint64)
    for bands, rows in ((25, 5), (64, 2)):
        index = BandIndex(bands, rows)
        for matrix in (values, values.astype(np.uint32), values.astype(np.int64), values[:0]):
            assert np.array_equal(index.keys_of_many(matrix), reference_keys(index, matrix))
        assert np.array_equal(index.keys(values[7]), reference_keys(index, values[7:8])[0])


def test_insert_many_finds_what_insert_finds() -> None:
    values = np.random.default_rng(2).integers(0, 2**32, size=(200, 128), dtype=np.uint64)
    values[50] = values[10]  # a copy: one bucket of two articles
    one_by_one, at_once = BandIndex(25, 5), BandIndex(25, 5)
    ids = list(range(1000, 1200))
    for article_id, row in zip(ids, values, strict=True):
        one_by_one.insert(article_id, row)
    at_once.insert_many(ids[:120], values[:120])
    at_once.insert_many(ids[120:], values[120:])  # into arrays already holding keys
    for row in values[::7]:
        assert one_by_one.query(row) == at_once.query(row)
    assert at_once.query(values[10]) == {1010, 1050}
    assert np.all(np.diff(at_once._keys.astype(np.int64)) >= 0)


def test_story_vectors_sum_as_reduceat() -> None:
    """add_many() sums each story's vectors as np.add.reduceat does (first vector plus numpy's
    pairwise sum of the rest), bit for bit, for stories of one to thousands of members."""
    rng = np.random.default_rng(3)
    sizes = np.concatenate([rng.integers(1, 40, size=200), [8, 9, 16, 128, 129, 130, 257, 1000]])
    stories = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(stories)
    labels: list[int | None] = [None if s == 3 else int(s) for s in stories]
    vectors = (rng.standard_normal((len(labels), 256)) * 0.1).astype(np.float32)
    earlier = vectors[0] * 3
    built = StoryVectors()
    built.add(4, earlier)  # a story with a row already is added to
    built.add_many(labels, lambda at: vectors[at])
    for story in (None, 4, int(np.argmax(sizes))):
        members = vectors[[k for k, s in enumerate(labels) if s == story]]
        expected = np.add.reduceat(members, [0], axis=0)[0] + (earlier if story == 4 else 0)
        row = built._row[story]
        assert np.array_equal(built._sums[row].view(np.uint32), expected.astype(np.float32).view(np.uint32))
        assert built._counts[row] == len(members) + (story == 4)
    first_seen = list(dict.fromkeys([4, *labels]))  # rows in the order stories first appear
    assert [built._row[s] for s in first_seen] == list(range(len(first_seen)))


def reference_quantized(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    peaks = np.abs(vectors).max(axis=1)
    scales = (np.where(peaks > 0, peaks, 1.0) / 127).astype(np.float16)
    codes = np.rint(vectors / scales.astype(np.float32)[:, None])
    return np.clip(codes, -127, 127).astype(np.int8), scales


def test_quantized_in_blocks_is_the_whole_matrix_quantized() -> None:
    vectors = np.random.default_rng(4).standard_normal((1500, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[5] = 0.0
    for matrix in (vectors.astype(np.float16), vectors, vectors[3], vectors[:0]):
        codes, scales = quantized(matrix)
        expected_codes, expected_scales = reference_quantized(matrix)
        assert np.array_equal(codes, expected_codes)
        assert np.array_equal(scales.view(np.uint16), expected_scales.view(np.uint16))


def test_low_bits_are_the_values_low_eight_bits() -> None:
    values = np.random.default_rng(5).integers(0, 2**63, size=(40, 128), dtype=np.uint64)
    for matrix in (values, values.astype(np.uint32), values.astype(np.int64) - 2**62):
        assert np.array_equal(low_bits(matrix), (matrix & 0xFF).astype(np.uint8))


def _stored_entry(article_id: int, rng: np.random.Generator) -> IndexedArticle:
    """An index entry with random hash sets: stories of up to 9 (some with no cluster yet), some
    headlines (few words), some undated."""

    def hashes(count: int) -> np.ndarray:
        return np.unique(rng.integers(0, 1 << 32, size=count, dtype=np.uint64)).astype(np.uint32)

    embedding = rng.standard_normal(256).astype(np.float32)
    return IndexedArticle(
        article_id=article_id,
        cluster_id=None if article_id % 11 == 0 else 1000 + int(rng.integers(0, 40)),
        seen=None if article_id % 5 == 0 else 1e9 + article_id,
        arrived=1e9 + article_id + 0.25,
        shingle_values=hashes(400)[:128],
        lsh_values=hashes(400)[:128],
        salient_hashes=hashes(int(rng.integers(1, 30))),
        word_hashes=hashes(int(rng.integers(3, 200))),
        title_hashes=hashes(int(rng.integers(1, 9))),
        embedding=(embedding / np.linalg.norm(embedding)).astype(np.float16),
    )


def test_a_window_opened_in_one_piece_holds_what_one_by_one_holds() -> None:
    rng = np.random.default_rng(6)
    entries = [_stored_entry(article_id, rng) for article_id in rng.permutation(np.arange(1, 400)).tolist()]
    entries.sort(key=lambda e: e.arrived)
    stored = [stored_fingerprint(e) for e in entries]
    columns = [[getattr(f, field.name) for f in stored] for field in fields(StoredFingerprint)]
    window = StoredWindow(columns[0], [e.cluster_id for e in entries], *columns[1:])
    opened, built = StoryIndex(window_seconds=1e6), StoryIndex(window_seconds=1e6)
    opened.add_stored(window)
    for entry in entries:
        built.add(replace(entry, word_hashes=word_values(entry.word_hashes).astype(np.uint32)))
    assert opened._members == built._members and list(opened._members) == list(built._members)
    assert opened._full_texts == built._full_texts and opened._headline_only == built._headline_only
    assert sorted(opened._by_arrival) == sorted(built._by_arrival) and opened._latest == built._latest
    for entry in entries[::17]:
        assert opened.cluster_of(entry.article_id) == built.cluster_of(entry.article_id)
        for tier in ("_near", "_story"):
            values = entry.shingle_values if tier == "_near" else entry.lsh_values
            assert getattr(opened, tier).query(values) == getattr(built, tier).query(values)
        terms = np.concatenate([entry.salient_hashes, entry.title_hashes])
        assert np.array_equal(opened._terms.story_counts(terms), built._terms.story_counts(terms))
        assert opened._headlines.stories_sharing(terms) == built._headlines.stories_sharing(terms)
    for story in built._members:
        assert opened._vectors.cosine(np.ones(256) / 16, story) == pytest.approx(
            built._vectors.cosine(np.ones(256) / 16, story), abs=1e-6
        )


def _placed(planned: bool, window: float, chunk: int = 60) -> list[object]:
    """Placements of a synthetic stream with copies and headlines, `chunk` articles stored at a
    time, each placed alone or with the index's plan of its chunk (StoryIndex.open_chunk)."""
    from benchmarks.clustering import SyntheticCorpus
    from wirewatch.dedup.fingerprint import fingerprint_many
    from wirewatch.dedup.index import new_entry

    corpus = SyntheticCorpus(seed=5, stories=40)
    items = []
    for n in range(240):
        article = corpus.article(n * 4)[0]
        if n % 7 == 6:
            items.append(items[n // 2])  # a copy of an earlier one
        else:
            items.append((article.title, "" if n % 9 == 0 else article.text))  # or a headline alone
    fps = fingerprint_many(items)
    index, clusters, out = StoryIndex(window), 0, []
    for start in range(0, len(fps), chunk):
        part = fps[start : start + chunk]
        times = [float(start + k) * 60 for k in range(len(part))]
        if planned:
            index.open_chunk(part, times, [times[-1]] * len(part))
        for k, fp in enumerate(part):
            lsh = index.lsh_hash(fp)
            placement = index.place(fp, index.candidates(fp, lsh, times[k], times[-1]))
            story = placement.story
            if story is None:
                story, clusters = clusters, clusters + 1
            for other in placement.merges:
                index.merge(other, story)
            index.add(new_entry(start + k, story, fp, times[k], times[-1], lsh))
            out.append(placement)
        index.close_chunk()
    return out


@pytest.mark.parametrize("window", [1e9, 1800.0])
def test_a_chunk_placed_with_its_plan_decides_as_one_by_one(window: float) -> None:
    alone = _placed(False, window)
    assert {"near_duplicate", "related", "original"} <= {p.tier for p in alone}  # type: ignore[attr-defined]
    assert _placed(True, window) == alone
