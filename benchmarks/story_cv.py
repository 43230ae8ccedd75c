"""Grouped cross-validation of the story model on the headline stream, and the fit that ships.

Run: python -m benchmarks.story_cv [--fit]
The 48 stories are shuffled (seed 0) into 5 folds. For each fold: the model is fitted on the
other folds' headlines (their pairs of article and candidate story, labelled by Google News'
story, streamed as dedup streams them); its join threshold is the one of JOIN_GRID that scores
best on those training stories; then the whole stream is clustered with it in memory (dedup's
StoryIndex, no store) and B-cubed is scored on the held-out stories' headlines alone (their
clusters may hold other headlines: precision counts them). Mean and sd of the held-out folds.
--fit prints the model fitted on all stories, with the threshold most folds chose, as the
literal dedup/story_model.py ships.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from benchmarks.clustering import Headline, b_cubed, load_headlines
from wirewatch.dedup import Fingerprint, StoryIndex, fingerprint_text
from wirewatch.dedup.index import MEANING_ALONE, new_entry, story_words
from wirewatch.dedup.story_model import StoryModel, fit_logistic

FOLDS = 5
JOIN_GRID = (0.05, 0.1, 0.15, 0.2, 0.3)
MERGE_GRID = (2.0, 0.9, 0.8, 0.7)  # 2.0: never merge


@dataclass(frozen=True)
class FoldScore:
    fold: int
    stories: int
    headlines: int
    join: float
    merge: float
    precision: float
    recall: float
    f1: float


def fingerprints(items: Sequence[Headline]) -> list[Fingerprint]:
    return [fingerprint_text(h.title, h.title) for h in items]


def training_rows(
    items: Sequence[Headline], fps: Sequence[Fingerprint], keep: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Features of each kept headline against each candidate story, labelled same story or not,
    with every earlier kept headline in its true story."""
    story_ids = {s: n for n, s in enumerate(sorted({h.story for h in items}))}
    index, rows, labels = StoryIndex(), [], []
    for i, (h, fp) in enumerate(zip(items, fps, strict=True)):
        if h.story not in keep:
            continue
        seen, lsh_hash = h.published.timestamp(), index.lsh_hash(fp)
        candidates = index.candidates(fp, lsh_hash, seen, seen)
        words = story_words(fp)
        for story in index.candidate_stories(fp, candidates):
            rows.append(index.story_features(fp, words, story).values())
            labels.append(float(story == story_ids[h.story]))
        index.add(new_entry(i, story_ids[h.story], fp, seen, seen, lsh_hash))
    return np.array(rows), np.array(labels)


def cluster_stream(
    items: Sequence[Headline],
    fps: Sequence[Fingerprint],
    model: StoryModel,
    meaning_alone: float | None = None,
) -> list[int]:
    """Each headline's final story, placed one at a time as commit_articles places them."""
    index = StoryIndex(model=model, meaning_alone=MEANING_ALONE if meaning_alone is None else meaning_alone)
    story_of: dict[int, int] = {}  # merged story -> the story it went into
    assigned: list[int] = []

    def live(story: int) -> int:
        while story in story_of:
            story = story_of[story]
        return story

    for i, (h, fp) in enumerate(zip(items, fps, strict=True)):
        seen, lsh_hash = h.published.timestamp(), index.lsh_hash(fp)
        placement = index.place(fp, index.candidates(fp, lsh_hash, seen, seen))
        story = i if placement.story is None else live(placement.story)
        for other in placement.merges:
            if live(other) != story:
                story_of[live(other)] = story
            index.merge(other, story)
        assigned.append(story)
        index.add(new_entry(i, story, fp, seen, seen, lsh_hash))
    return [live(s) for s in assigned]


def folds_of(items: Sequence[Headline], seed: int = 0) -> list[set[str]]:
    stories = sorted({h.story for h in items})
    random.Random(seed).shuffle(stories)
    return [set(stories[k::FOLDS]) for k in range(FOLDS)]


def score_fold(
    items: Sequence[Headline], fps: Sequence[Fingerprint], k: int, meaning_alone: float | None
) -> FoldScore:
    """Fit on the other folds' stories, pick the join threshold there, score fold k's stories."""
    gold = [h.story for h in items]
    held_out = folds_of(items)[k]
    train = set(gold) - held_out
    x, y = training_rows(items, fps, train)
    train_items = [i for i, g in enumerate(gold) if g in train]
    test_items = [i for i, g in enumerate(gold) if g in held_out]
    best: tuple[float, float, float, list[int]] | None = None
    for join in JOIN_GRID:
        for merge in MERGE_GRID:
            pred = cluster_stream(items, fps, fit_logistic(x, y, join, merge), meaning_alone)
            f1 = b_cubed(pred, gold, train_items)[2]
            if best is None or f1 > best[0]:
                best = (f1, join, merge, pred)
    assert best is not None
    p, r, f1 = b_cubed(best[3], gold, test_items)
    return FoldScore(k, len(held_out), len(test_items), best[1], best[2], p, r, f1)


def cross_validate(
    items: Sequence[Headline], fps: Sequence[Fingerprint], meaning_alone: float | None = None
) -> list[FoldScore]:
    """The folds on every core (each fold is independent; forked workers share items and fps)."""
    with ProcessPoolExecutor(
        max_workers=min(FOLDS, os.cpu_count() or 1), mp_context=get_context("fork")
    ) as pool:
        jobs = [pool.submit(score_fold, items, fps, k, meaning_alone) for k in range(FOLDS)]
        return [job.result() for job in jobs]


def report(results: Sequence[FoldScore]) -> None:
    heads = ("fold", 4), ("stories", 7), ("headlines", 9), ("join", 5), ("merge", 5)
    print(" ".join(f"{name:>{width}}" for name, width in heads), f"{'B3 P':>6} {'B3 R':>6} {'B3 F1':>6}")
    for s in results:
        print(
            f"{s.fold:>4} {s.stories:>7} {s.headlines:>9} {s.join:>5} {s.merge:>5} "
            f"{s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}"
        )
    for name in ("precision", "recall", "f1"):
        values = [getattr(s, name) for s in results]
        print(f"held-out {name}: mean {statistics.fmean(values):.3f} sd {statistics.stdev(values):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="print the model fitted on all stories")
    parser.add_argument(
        "--meaning-alone", type=float, help="embedding cosine that lets one shared word do (default: shipped)"
    )
    args = parser.parse_args()
    items = load_headlines()
    fps = fingerprints(items)
    results = cross_validate(items, fps, args.meaning_alone)
    report(results)
    if args.fit:
        join = Counter(s.join for s in results).most_common(1)[0][0]
        merge = Counter(s.merge for s in results).most_common(1)[0][0]
        x, y = training_rows(items, fps, {h.story for h in items})
        print(f"SHIPPED = {fit_logistic(x, y, join, merge)!r}")


if __name__ == "__main__":
    main()
