"""Article-body quality and speed of wirewatch's HTML extractor against bare trafilatura.

Run (from the project root): python -m benchmarks.extraction [--worst N] [--repeat R]
Data: ../shared/eval/extraction (90 pages of the ScrapingHub article-extraction benchmark with
their gold article bodies; see its README), read in place, never copied.
Measures, in one run on one core, for the baseline `trafilatura.extract(html)` with defaults and for
`extractors.extract_page` (ExtractionError counts as an empty prediction):
  - precision, recall and F1 of word 4-gram shingles, scored the way the benchmark's evaluate.py does;
  - pages per second over all pages (HTML decompressed and decoded beforehand; best of R runs);
and prints ours/baseline ratios. --worst N lists the pages where ours loses most F1 to the baseline,
with samples of gold text ours dropped and of text ours kept that the gold lacks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wirewatch.errors import ExtractionError  # noqa: E402
from wirewatch.extractors import extract_page  # noqa: E402
from wirewatch.flows.extract_pool import available_cores, extract_on_cores  # noqa: E402
from wirewatch.flows.stages import extract_articles  # noqa: E402
from wirewatch.records import Page  # noqa: E402

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "extraction"
NGRAM = 4
SAMPLE_CHARS = 300
# As in the benchmark's evaluate.py: `\w+` compiled with IGNORECASE, which changes nothing for
# `\w`, and tokens are NOT lower-cased, so "The" and "the" are different tokens.
_TOKEN = re.compile(r"\w+")

Shingle = tuple[str, ...]
Extractor = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class GoldPage:
    key: str
    url: str
    html: str
    body: str


@dataclass(frozen=True, slots=True)
class Score:
    """Shingle counts of one page, each divided by tp + fp + fn of that page (as the benchmark does)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        return _precision(self.tp, self.fp, self.fn)

    @property
    def recall(self) -> float:
        return _precision(self.tp, self.fn, self.fp)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _precision(tp: float, fp: float, fn: float) -> float:
    # evaluate.py's precision_score; recall_score is the same with fp and fn swapped.
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def load_pages(data_dir: Path) -> list[GoldPage]:
    gold = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(gold):
        raw = gzip.decompress((data_dir / "html" / f"{key}.html.gz").read_bytes())
        html = raw.decode("utf-8", errors="replace")
        pages.append(GoldPage(key, gold[key]["url"], html, gold[key].get("articleBody") or ""))
    return pages


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(tokens: list[str], n: int = NGRAM) -> list[Shingle]:
    """Word n-grams; a text shorter than n words is one short shingle, an empty text none."""
    grams = [tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))]
    return [g for g in grams if g]


def score_page(truth: str, prediction: str) -> Score:
    true_counts = Counter(shingles(tokenize(truth)))
    pred_counts = Counter(shingles(tokenize(prediction)))
    tp = float(sum((true_counts & pred_counts).values()))
    fp = float(sum((pred_counts - true_counts).values()))
    fn = float(sum((true_counts - pred_counts).values()))
    total = tp + fp + fn
    if total == 0:  # both texts empty: left as zeros, and skipped by both means below
        return Score(0.0, 0.0, 0.0)
    return Score(tp / total, fp / total, fn / total)


def summarise(scores: list[Score]) -> tuple[float, float, float]:
    """Benchmark metrics: mean per-page precision over pages that predicted something, mean per-page
    recall over pages with gold text, F1 = 2PR/(P+R) of those two means (not of summed counts).
    """
    precision = statistics.mean(s.precision for s in scores if s.tp + s.fp > 0)
    recall = statistics.mean(s.recall for s in scores if s.tp + s.fn > 0)
    return precision, recall, 2 * precision * recall / (precision + recall)


def baseline(html: str, url: str) -> str:
    return trafilatura.extract(html) or ""


def ours(html: str, url: str) -> str:
    try:
        return extract_page(Page(url=url, source="eval", body=html, content_type="text/html")).text
    except ExtractionError:
        return ""


def run(extractors: list[Extractor], pages: list[GoldPage], repeat: int) -> list[tuple[list[str], float]]:
    """Predictions of each extractor for all pages and its best pages/second over `repeat` passes.

    Passes alternate between extractors, so a change in machine load hits both alike.
    """
    best = [float("inf")] * len(extractors)
    predictions: list[list[str]] = [[] for _ in extractors]
    for _ in range(repeat):
        for i, extractor in enumerate(extractors):
            start = time.perf_counter()
            predictions[i] = [extractor(page.html, page.url) for page in pages]
            best[i] = min(best[i], time.perf_counter() - start)
    return [(pred, len(pages) / seconds) for pred, seconds in zip(predictions, best, strict=True)]


def pin_to_one_core() -> set[int]:
    """Run on one core from now on; returns the cores the process had."""
    if not hasattr(os, "sched_setaffinity"):
        return set()
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    return cores


def on_cores(pages: list[Page], workers: int) -> None:
    """extract_on_cores, stopping the benchmark if it fell back to one process."""
    if why := extract_on_cores(pages, workers)[1]:
        raise SystemExit(why)


@dataclass(frozen=True, slots=True)
class StageRates:
    pages: int
    one_process: float  # pages/s
    workers: int
    on_workers: float  # pages/s, starting the worker processes included
    start_up: float  # seconds to start the workers (a call with one tiny page per worker)


def stage_rates(pages: list[GoldPage], copies: int) -> StageRates:
    """Pages/s of the extract stage in this process and on worker processes over every core."""
    items = [
        Page(url=f"{page.url}#{n}", source="eval", body=page.html, content_type="text/html")
        for n in range(copies)
        for page in pages
    ]
    start = time.perf_counter()
    extract_articles(items)
    one = len(items) / (time.perf_counter() - start)
    workers = available_cores()
    # Start multiprocessing's fork server: once per process, a run pays it once (1-2 s).
    on_cores(items[:workers], workers)
    start = time.perf_counter()
    on_cores(items, workers)
    every = len(items) / (time.perf_counter() - start)
    tiny = [
        Page(url=f"about:blank#{n}", source="eval", body="<p>x</p>", content_type="text/html")
        for n in range(workers)
    ]
    start = time.perf_counter()
    on_cores(tiny, workers)
    return StageRates(len(items), one, workers, every, time.perf_counter() - start)


def unmatched_runs(tokens: list[str], other: Counter[Shingle], n: int = NGRAM) -> str:
    """Words of `tokens` covered by no shingle that `other` also has (counts respected), as runs."""
    available = other.copy()
    matched = [False] * len(tokens)
    for i, gram in enumerate(shingles(tokens, n)):
        if available[gram] > 0:
            available[gram] -= 1
            matched[i : i + len(gram)] = [True] * len(gram)
    runs: list[list[str]] = []
    for i, token in enumerate(tokens):
        if matched[i]:
            continue
        if i == 0 or matched[i - 1] or not runs:
            runs.append([])
        runs[-1].append(token)
    text = " … ".join(" ".join(run) for run in runs)
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"


def print_table(rows: list[tuple[str, tuple[float, float, float], float]]) -> None:
    print(f"{'extractor':<26} {'precision':>9} {'recall':>7} {'F1':>7} {'pages/s':>8}")
    for name, (p, r, f1), speed in rows:
        print(f"{name:<26} {p:>9.3f} {r:>7.3f} {f1:>7.3f} {speed:>8.1f}")
    (_, base, base_speed), (_, mine, my_speed) = rows
    print(f"F1 ratio (ours/baseline):         {mine[2] / base[2]:.3f}")
    print(f"throughput ratio (ours/baseline): {my_speed / base_speed:.3f}")


def print_worst(
    pages: list[GoldPage], base: list[Score], mine: list[Score], predictions: list[str], count: int
) -> None:
    order = sorted(range(len(pages)), key=lambda i: mine[i].f1 - base[i].f1)[:count]
    print(f"\n{count} pages where ours loses most F1 to the baseline")
    for i in order:
        gold_tokens, pred_tokens = tokenize(pages[i].body), tokenize(predictions[i])
        print(f"\n{pages[i].key[:16]}  {pages[i].url}")
        print(f"  baseline P {base[i].precision:.3f} R {base[i].recall:.3f} F1 {base[i].f1:.3f}")
        print(f"  ours     P {mine[i].precision:.3f} R {mine[i].recall:.3f} F1 {mine[i].f1:.3f}")
        print(f"  dropped (gold, not ours): {unmatched_runs(gold_tokens, Counter(shingles(pred_tokens)))}")
        print(f"  kept (ours, not gold):    {unmatched_runs(pred_tokens, Counter(shingles(gold_tokens)))}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="extraction eval directory")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per extractor (best kept)")
    parser.add_argument("--worst", type=int, default=0, metavar="N", help="list N pages ours loses most on")
    parser.add_argument("--copies", type=int, default=2, help="passes over the pages for the core rates")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # trafilatura logs per-page complaints
    cores = pin_to_one_core()
    pages = load_pages(args.data)
    (base_pred, base_speed), (my_pred, my_speed) = run([baseline, ours], pages, args.repeat)
    base_scores = [score_page(p.body, pred) for p, pred in zip(pages, base_pred, strict=True)]
    my_scores = [score_page(p.body, pred) for p, pred in zip(pages, my_pred, strict=True)]
    print(f"{len(pages)} pages, {sum(not t for t in my_pred)} empty from ours, best of {args.repeat} passes")
    print_table(
        [
            ("trafilatura.extract", summarise(base_scores), base_speed),
            ("wirewatch extract_page", summarise(my_scores), my_speed),
        ]
    )
    if cores:
        os.sched_setaffinity(0, cores)
    rates = stage_rates(pages, args.copies)
    busy = rates.pages / rates.on_workers - rates.start_up
    print(f"\nextract stage, {rates.pages} pages:")
    print(f"  one process          {rates.one_process:8.1f} pages/s")
    print(
        f"  {rates.workers} worker processes   {rates.on_workers:8.1f} pages/s  "
        f"({rates.on_workers / rates.one_process:.2f}x; starting them {rates.start_up:.2f} s, "
        f"{rates.pages / busy / rates.one_process:.2f}x without that)"
    )
    if args.worst:
        print_worst(pages, base_scores, my_scores, my_pred, args.worst)


if __name__ == "__main__":
    main()
