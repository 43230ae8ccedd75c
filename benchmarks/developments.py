"""Development alerts: precision and recall on labelled stories, and the seeds in every order.

    python -m benchmarks.developments [--seeds ../shared/seeds]

1. benchmarks/data/developments/stories.jsonl (written for this benchmark): 12 stories of 8 to 10
   articles in arrival order, each labelled first, copy, rewrite or development. Each article after
   the first is compared with the story so far (dedup.novelty); it is called a development when
   its new sentences weigh at least the threshold. The threshold is chosen by leave-one-story-out
   cross-validation (best F1 on the other 11 stories), and the spread over the folds is printed
   beside the shipped threshold's figures. The topic-query check of the alert rule comes on top
   of this (a development must also say something the topic asks about).
2. The five seed articles in all 120 orders through the real commit path (a SQLite file each),
   with a `developments` topic on North Korea: what each order raises.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wirewatch.alerts.policy import DEVELOPMENT_WEIGHT
from wirewatch.dedup.novelty import novelty
from wirewatch.dedup.statements import StatementIndex

DATA = Path(__file__).resolve().parent / "data" / "developments" / "stories.jsonl"
GRID = [x / 4 for x in range(1, 41)]


@dataclass(frozen=True)
class Case:
    story: str
    order: int
    label: str
    weight: float
    new_sentences: tuple[str, ...]


def labelled_cases(path: Path = DATA) -> list[Case]:
    """Every article after a story's first, with the weight of what it adds to the story so far."""
    from wirewatch.extractors.plaintext import clean_paragraphs

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:  # as the extract stage would store them: sign-offs and furniture dropped
        row["text"] = "\n\n".join(clean_paragraphs(row["text"].split("\n\n")))
    cases = []
    for story, articles in itertools.groupby(
        sorted(rows, key=lambda r: (r["story"], r["order"])), lambda r: r["story"]
    ):
        said = StatementIndex(distinct=True)
        for row in articles:
            found = novelty(row["title"], row["text"], said)
            if row["label"] != "first":
                sentences = tuple(s.text for s in found.sentences)
                cases.append(Case(story, row["order"], row["label"], found.weight, sentences))
    return cases


def scores(cases: list[Case], threshold: float) -> tuple[float, float, float]:
    called = [c for c in cases if c.weight >= threshold]
    right = sum(c.label == "development" for c in called)
    positives = sum(c.label == "development" for c in cases)
    precision = right / len(called) if called else 1.0
    recall = right / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(cases: list[Case]) -> float:
    return max(GRID, key=lambda t: (scores(cases, t)[2], -t))


def cross_validate(cases: list[Case]) -> list[tuple[str, float, float, float]]:
    folds = []
    for story in sorted({c.story for c in cases}):
        threshold = best_threshold([c for c in cases if c.story != story])
        held = [c for c in cases if c.story == story]
        precision, recall, _ = scores(held, threshold)
        folds.append((story, threshold, precision, recall))
    return folds


def seed_orders(seeds: Path) -> Counter[tuple[int, int]]:
    """(new_story alerts, development alerts) raised by each order of the seeds, counted."""
    from wirewatch.extractors.article import extract_page, read_file_page
    from wirewatch.flows.commit import commit_articles, load_index
    from wirewatch.records import NewArticle
    from wirewatch.settings import AlertSettings, TopicConfig
    from wirewatch.store import open_store

    topic = TopicConfig("nk", '"North Korea" OR Pyongyang', mode="developments", min_interval_minutes=0)
    pages = sorted(seeds.glob("*.txt"))
    extracted = [extract_page(read_file_page(p)) for p in pages]
    start = datetime(2024, 6, 28, tzinfo=UTC)
    outcomes: Counter[tuple[int, int]] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for number, order in enumerate(itertools.permutations(range(len(pages)))):
            store = open_store(Path(folder) / f"order-{number}.db")
            for step, index in enumerate(order):
                a = extracted[index]
                now = start + timedelta(hours=step)
                page = pages[index]
                article = NewArticle(
                    page.resolve().as_uri(), page.stem, a.title or "", a.text, published=now, language="en"
                )
                commit_articles([article], store, load_index(store), (topic,), AlertSettings(), now)
            kinds = Counter(alert.kind for alert in store.outbox.listing())
            outcomes[(kinds["new_story"], kinds["development"])] += 1
            store.close()
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=Path("../shared/seeds"), help="the seed articles")
    args = parser.parse_args()
    cases = labelled_cases()
    labels = Counter(c.label for c in cases)
    print(
        f"{len(cases)} later articles in {len({c.story for c in cases})} stories: "
        + ", ".join(f"{k} {v}" for k, v in sorted(labels.items()))
    )
    print("\nleave-one-story-out (threshold: best F1 on the other stories):")
    folds = cross_validate(cases)
    for story, threshold, precision, recall in folds:
        print(f"  {story:<8} threshold {threshold:>5.2f}  precision {precision:.3f}  recall {recall:.3f}")
    for name, values in (("precision", [f[2] for f in folds]), ("recall", [f[3] for f in folds])):
        print(f"{name}: mean {statistics.mean(values):.3f}, min {min(values):.3f}, max {max(values):.3f}")
    thresholds = [f[1] for f in folds]
    everywhere = best_threshold(cases)
    print(f"thresholds chosen: {min(thresholds):.2f}-{max(thresholds):.2f}; on all stories: {everywhere:.2f}")
    precision, recall, f1 = scores(cases, DEVELOPMENT_WEIGHT)
    shipped = f"shipped threshold {DEVELOPMENT_WEIGHT:.2f}"
    print(f"{shipped}: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    by_label = {
        label: sum(c.weight >= DEVELOPMENT_WEIGHT for c in cases if c.label == label) for label in labels
    }
    print(
        "called developments by label: "
        + ", ".join(f"{k} {v}/{labels[k]}" for k, v in sorted(by_label.items()))
    )
    if args.seeds.is_dir():
        print(f"\nseeds in all orders ({args.seeds}): (new_story alerts, development alerts) -> orders")
        for outcome, count in sorted(seed_orders(args.seeds).items()):
            print(f"  {outcome}: {count}")


if __name__ == "__main__":
    main()
