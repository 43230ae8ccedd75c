"""An index entry as the store keeps it: what the story index holds of an article, in the form it
holds it, so a run's start reads the window's columns straight into its arrays.

The store once kept each article's full fingerprint (two serialised MinHashes, float16 embedding,
32-bit word hashes: about 2.5 KB), and every run's start parsed the MinHashes, mixed their band
keys and quantised the embeddings again. It now keeps the band keys, the shingles' low bits,
the quantised embedding and 16-bit words (about 1.2 KB): half the bytes to read, and nothing to
compute but the sort of the keys. What is dropped (the full MinHash values) is what no stored
entry is ever compared by: a new article is placed by its own full values against these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wirewatch.dedup.article_table import (
    SALIENT,
    TITLES,
    IndexedArticle,
    low_bits,
    quantized_row,
    word_values,
)
from wirewatch.dedup.band_index import NEAR_LSH_BANDS_ROWS, SALIENT_LSH_BANDS_ROWS, BandIndex
from wirewatch.dedup.embedding import DIMENSIONS
from wirewatch.dedup.fingerprint import NUM_PERM
from wirewatch.dedup.runs import run_positions
from wirewatch.records import StoredFingerprint, StoredWindow

# The fixed part of a stored entry, little-endian whatever the machine (a store file moves
# between machines): its band keys in both tiers, its embedding quantised (article_table.quantized),
# its shingles' low bits (article_table.low_bits). Aligned: 744 bytes.
KEPT = np.dtype(
    {
        "names": ["near", "story", "scale", "codes", "shingles"],
        "formats": [
            ("<u4", NEAR_LSH_BANDS_ROWS[0]),
            ("<u4", SALIENT_LSH_BANDS_ROWS[0]),
            "<f2",
            ("i1", DIMENSIONS),
            ("u1", NUM_PERM),
        ],
    },
    align=True,
)


# The tiers' keys of one article at a time, as the index computes them (BandIndex.keys).
_TIERS = {"near": BandIndex(*NEAR_LSH_BANDS_ROWS), "story": BandIndex(*SALIENT_LSH_BANDS_ROWS)}


def stored_fingerprint(article: IndexedArticle) -> StoredFingerprint:
    """The stored form of a new index entry (index.new_entry): what a run's start reads back. Not
    of an entry the index holds, which keeps no LSH values."""
    if not len(article.lsh_values):
        raise ValueError(f"article {article.article_id}: an index's own entry has no LSH values to store")
    kept = np.zeros((), dtype=KEPT)
    kept["near"] = _TIERS["near"].keys(article.shingle_values)
    kept["story"] = _TIERS["story"].keys(article.lsh_values)
    kept["codes"], kept["scale"] = quantized_row(article.embedding)
    kept["shingles"] = low_bits(article.shingle_values)
    return StoredFingerprint(
        article_id=article.article_id,
        seen=article.seen,
        arrived=article.arrived,
        kept=kept.tobytes(),
        words=word_values(article.word_hashes).astype("<u2").tobytes(),
        terms=np.concatenate([article.title_hashes, article.salient_hashes]).astype("<u4").tobytes(),
        titles=len(article.title_hashes),
    )


@dataclass(frozen=True, slots=True)
class OpenedWindow:
    """A stored window's entries as whole arrays, a row (or a run) an article, oldest first."""

    kept: np.ndarray  # KEPT records
    words: np.ndarray  # uint16, each article's run in turn
    terms: np.ndarray  # uint32, each article's titles then its salient terms
    lengths: np.ndarray  # (articles, 3): its words, titles and salient terms (article_table's order)

    def titles_and_salient(self) -> tuple[np.ndarray, np.ndarray]:
        """`terms` as two columns: every article's title hashes in turn, and its salient terms."""
        titles, salient = self.lengths[:, TITLES], self.lengths[:, SALIENT]
        sizes = titles + salient
        is_title = run_positions(np.zeros(len(sizes), np.int64), sizes) < np.repeat(titles, sizes)
        return self.terms[is_title], self.terms[~is_title]


def opened_window(window: StoredWindow) -> OpenedWindow:
    """The window's stored entries read into arrays, each column in one piece."""
    count = len(window)
    bad = next((k for k, raw in enumerate(window.kept) if len(raw) != KEPT.itemsize), None)
    if bad is not None:
        article = window.article_ids[bad]
        raise ValueError(f"article {article}: its stored index entry is not {KEPT.itemsize} bytes")
    kept = np.frombuffer(b"".join(window.kept), dtype=KEPT, count=count)
    words = np.frombuffer(b"".join(window.words), dtype="<u2").astype(np.uint16, copy=False)
    terms = np.frombuffer(b"".join(window.terms), dtype="<u4").astype(np.uint32, copy=False)
    word_counts = np.fromiter(map(len, window.words), dtype=np.int64, count=count) // 2
    term_counts = np.fromiter(map(len, window.terms), dtype=np.int64, count=count) // 4
    titles = np.array(window.titles, dtype=np.int64)
    lengths = np.stack([word_counts, titles, term_counts - titles], axis=1)
    return OpenedWindow(kept, words, terms, lengths)
