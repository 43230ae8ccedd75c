"""What SQLite's page cache (store.database.CACHE_KIB) saves on the store path.

Run: python -m benchmarks.store_cache [--articles N]
The same N synthetic articles (benchmarks.clustering's stream: 20,000 by default, about the 7-day
window's 21,000) go through commit_articles into a new store twice, read on every core as a
large run reads them: once with SQLite's default page cache (2,000 KiB), once with wirewatch's.
Prints the time a stored article took over the last quarter of each (the store at its largest),
and their ratio. Placing is the same in both (the grouping is printed to show it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.clustering import ALERTS, SyntheticCorpus, scale_topics, score
from wirewatch.flows.commit import commit_articles, load_index
from wirewatch.flows.extract_pool import ReadingOnCores, available_cores
from wirewatch.store import open_store
from wirewatch.store.database import CACHE_KIB

SQLITE_DEFAULT_KIB = 2_000
BATCH = 1_000


def last_quarter_ms(total: int, cache_kib: int) -> tuple[float, float]:
    """ms a stored article took over the last quarter of `total`, and the grouping's B-cubed F1."""
    corpus = SyntheticCorpus(stories=max(5000, total // 20))
    topics = scale_topics(corpus)
    spent, timed = 0.0, 0
    gold: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, ReadingOnCores(available_cores()) as reader:
        store = open_store(Path(tmp) / "cache.db")
        store.db.execute(f"PRAGMA cache_size = -{cache_kib}")
        index = load_index(store)
        batch = max(1, min(BATCH, total // 8))  # at least two batches in the last quarter
        for start in range(0, total, batch):
            made = [corpus.article(i) for i in range(start, min(total, start + batch))]
            gold.update((a.url, story) for a, story in made)
            articles = [a for a, _ in made]
            began = time.perf_counter()
            when = articles[-1].published or datetime.now(UTC)
            commit_articles(articles, store, index, topics, ALERTS, when, None, reader)
            if start >= total * 3 // 4:
                spent += time.perf_counter() - began
                timed += len(articles)
        stored = store.articles.listing()
        store.close()
    grouping = score([a.cluster_id or -1 for a in stored], [gold[a.url] for a in stored])
    return 1000 * spent / max(timed, 1), grouping.b3_f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="synthetic articles per store")
    args = parser.parse_args()
    default_ms, default_f1 = last_quarter_ms(args.articles, SQLITE_DEFAULT_KIB)
    ours_ms, ours_f1 = last_quarter_ms(args.articles, CACHE_KIB)
    print(f"{args.articles:,} synthetic articles, the last quarter timed, read on {available_cores()} cores")
    for name, kib, ms, f1 in (
        ("SQLite's default cache", SQLITE_DEFAULT_KIB, default_ms, default_f1),
        ("wirewatch's cache", CACHE_KIB, ours_ms, ours_f1),
    ):
        print(f"{name + f' ({kib:,} KiB)':>32}: {ms:.2f} ms an article, grouping B3 F1 {f1:.3f}")
    print(f"time with wirewatch's cache / with the default: {ours_ms / default_ms:.2f}")


if __name__ == "__main__":
    main()
