"""Watchlist screening: articles per second with 20, 2,000 and 20,000 listed names (the 20-name
rate is the baseline, measured in the same run), the time to load a 20,000-entry list and build
its screen, and precision/recall on the labelled set of benchmarks/watchlist_cases.py.

    python -m benchmarks.watchlist
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchmarks.watchlist_cases import (
    CASES,
    ENTITIES,
    FRESH_CASES,
    FRESH_ENTITIES,
    HELD_OUT_CASES,
    HELD_OUT_ENTITIES,
)
from wirewatch.records import WatchEntity
from wirewatch.watchlists import Screen, load_watchlist

SYLLABLES = [f"{a}{b}" for a in "bdfghjklmnprstvz" for b in ("a", "e", "i", "o", "u", "ai", "ou")]
NEWS = (
    "The Security Council met on Tuesday to discuss the enforcement of sanctions after a panel "
    "of experts reported new evidence of ship-to-ship transfers of oil at sea. Diplomats said "
    "the vote could come next week. {names} were named in the report, which also listed vessels "
    "and companies accused of moving coal and fuel. Officials in Seoul and Tokyo welcomed it. "
)


def synthetic_entities(count: int, seed: int = 5) -> list[WatchEntity]:
    """`count` made-up listed people and companies, a third with an alias."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    entities = []
    for n in range(count):
        aliases: tuple[str, ...]
        if n % 3:
            name, aliases = f"{word().upper()}, {word()} {word()}", ()
        else:
            name, aliases = f"{word()} {word()} Trading Company Limited", (f"{word()} {word()}",)
        entities.append(WatchEntity("synthetic", str(n), name, "individual" if n % 3 else "entity", aliases))
    return entities


def articles(count: int, entities: list[WatchEntity], seed: int = 9) -> list[tuple[str, str]]:
    """News-like articles of about 600 words, each naming two listed entities (as written)."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        named = " and ".join(
            e.name.split(", ")[-1] + " " + e.name.split(", ")[0].title() for e in rng.sample(entities, 2)
        )
        made.append((f"Report {n} on sanctions", NEWS.format(names=named) * 8))
    return made


def rate(screen: Screen, docs: list[tuple[str, str]]) -> tuple[float, int]:
    started = time.perf_counter()
    hits = sum(len(screen.hits(title, text)) for title, text in docs)
    return len(docs) / (time.perf_counter() - started), hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    args = parser.parse_args()
    everyone = synthetic_entities(20_000)
    docs = articles(args.articles, everyone[:20])
    print(f"screening {len(docs)} articles of ~{len(docs[0][1].split())} words")
    print(f"{'listed names':>14}  {'forms':>7}  {'articles/s':>10}  {'vs 20 names':>11}  hits")
    baseline = 0.0
    for size in (20, 2_000, 20_000):
        screen = Screen(everyone[:size])
        screen.hits("warm", "up")
        per_s, hits = rate(screen, docs)
        baseline = baseline or per_s
        print(f"{size:>14,}  {screen.forms:>7,}  {per_s:>10,.0f}  {per_s / baseline:>10.2f}x  {hits}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        rows = ["id,name,aliases"] + [f'{e.entity_id},"{e.name}",{";".join(e.aliases)}' for e in everyone]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        started = time.perf_counter()
        Screen(load_watchlist(path, "csv").entities)
        print(f"load and build a 20,000-entry list: {time.perf_counter() - started:.2f} s (goal: under 2 s)")
    for label, entities, cases in (
        ("development set", ENTITIES, CASES),
        ("held-out set", HELD_OUT_ENTITIES, HELD_OUT_CASES),
        ("fresh set", FRESH_ENTITIES, FRESH_CASES),
    ):
        precision, recall = precision_recall(Screen(entities), cases)
        decoys = sum(1 for _, gold in cases if not gold)
        print(
            f"{label} ({len(cases)} sentences, {decoys} decoys): precision {precision:.3f}, "
            f"recall {recall:.3f} (goal: 0.95 / 0.9)"
        )


def precision_recall(screen: Screen, cases: tuple[tuple[str, frozenset[str]], ...]) -> tuple[float, float]:
    tp = fp = fn = 0
    for text, gold in cases:
        found = {h.entity_id for h in screen.hits("", text)}
        tp, fp, fn = tp + len(found & gold), fp + len(found - gold), fn + len(gold - found)
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


if __name__ == "__main__":
    main()
