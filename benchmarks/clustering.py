"""Story clustering: quality on real headlines, speed and memory at scale.

Run: python -m benchmarks.clustering [--skip-quality] [--variants] [--skip-scale] [--scale N]
     [--budget S] [--profile N]

1. Quality. The 3,407 headlines of ../shared/eval/clustering (48 Google News stories, March 2014) go
   through the real path, commit_articles on a temp SQLite store, one article per call, in TIMESTAMP
   order, as title-only articles with text=TITLE (the pipeline's feed-only path would pass the absent
   summary, text="": the fingerprints are identical). Each article's final cluster_id in the store is
   scored against STORY: B-cubed and pairwise P/R/F1. Baselines, same stream: datasketch MinHashLSH
   (128 perm), union of all matches, on word 3-shingles at 0.5 (eval README: B3 F1 ~0.04) and on
   content words at 0.4 (README: ~0.46). --variants adds offline prototypes of other rules (dedup/ is
   untouched) and a diagnosis of wirewatch's wrong merges and splits.
2. Scale. N synthetic articles (seeded: stories of Zipf-shared names + topic words over Zipf general
   words, 150-300 words, 20 articles a story, one every 30 s) through commit_articles in batches of
   1,000 with one StoryIndex. Every 10k (100k from a 500k run): articles/s over the interval and
   its ratio to the first interval whose index window was full (the window, 7 days = ~20k
   articles here, bounds the cost: flat is the goal), LSH candidates/article, the window's size
   and peak RSS (ru_maxrss); the time of load_index(store) once the window is full and at 100k,
   500k and 1M stored (as ratios to the first); then the grouping's B-cubed scores. Then the
   same articles through dedup
   alone, in memory (fingerprint, candidates, decision, index update), to separate clustering's
   cost from the store's. --budget S stops the store run after S s of commit time; --profile N
   prints a cProfile (top 15 cumulative) of an N-article run.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import itertools
import math
import pstats
import random
import resource
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from datasketch import LeanMinHash, MinHash, MinHashLSH

from wirewatch.dedup import Fingerprint, StoryIndex, fingerprint_text
from wirewatch.dedup.article_table import Candidates
from wirewatch.dedup.features import content_words, jaccard, overlap_coefficient, salient_terms, shingles
from wirewatch.dedup.fingerprint import fingerprint_in_chunks
from wirewatch.dedup.index import STORY_JACCARD, new_entry
from wirewatch.flows.commit import COMMIT_CHUNK, commit_articles, load_index
from wirewatch.flows.extract_pool import ReadingOnCores
from wirewatch.records import NewArticle, Placement
from wirewatch.settings import AlertSettings, TopicConfig
from wirewatch.store import Store, open_store

T = TypeVar("T")

DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "clustering" / "news-aggregator-dev.csv"
NUM_PERM = 128
ALERTS = AlertSettings()


# --- data and scoring ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Headline:
    id: int
    title: str
    url: str
    source: str
    story: str
    published: datetime


def load_headlines(path: Path = DATA) -> list[Headline]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen: set[str] = set()
    items = []
    for r in rows:
        url = r["URL"] if r["URL"] not in seen else f"{r['URL']}#{r['ID']}"
        seen.add(url)
        when = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, tz=UTC)
        items.append(
            Headline(int(r["ID"]), r["TITLE"], url, r["PUBLISHER"] or r["HOSTNAME"], r["STORY"], when)
        )
    return sorted(items, key=lambda h: (h.published, h.id))


@dataclass(frozen=True, slots=True)
class Scores:
    b3_p: float
    b3_r: float
    b3_f1: float
    pw_p: float
    pw_r: float
    pw_f1: float
    clusters: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def b_cubed(
    pred: Sequence[object], gold: Sequence[object], scored: Iterable[int]
) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 over the `scored` items (per item, averaged), clusters
    taken whole: a scored item's cluster may hold items that are not scored."""
    cells = Counter(zip(pred, gold, strict=True))
    p_size, g_size = Counter(pred), Counter(gold)
    items = list(scored)
    p = sum(cells[(pred[i], gold[i])] / p_size[pred[i]] for i in items) / len(items)
    r = sum(cells[(pred[i], gold[i])] / g_size[gold[i]] for i in items) / len(items)
    return p, r, _f1(p, r)


def score(pred: Sequence[object], gold: Sequence[object]) -> Scores:
    """B-cubed and pairwise P/R/F1 (the latter from the contingency table)."""
    b3_p, b3_r, b3_f1 = b_cubed(pred, gold, range(len(pred)))
    cells = Counter(zip(pred, gold, strict=True))
    p_size, g_size = Counter(pred), Counter(gold)
    tp = sum(c * (c - 1) / 2 for c in cells.values())
    pred_pairs = sum(c * (c - 1) / 2 for c in p_size.values())
    gold_pairs = sum(c * (c - 1) / 2 for c in g_size.values())
    pw_p = tp / pred_pairs if pred_pairs else 1.0
    pw_r = tp / gold_pairs if gold_pairs else 1.0
    return Scores(b3_p, b3_r, b3_f1, pw_p, pw_r, _f1(pw_p, pw_r), len(p_size))


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def labels(self) -> list[int]:
        return [self.find(i) for i in range(len(self.parent))]


# --- wirewatch, through the real store -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edge:
    """One match commit_articles acted on: article i joined (or merged into) the cluster of j."""

    i: int
    j: int
    best: bool  # the best match; False: an also_matched article whose cluster was merged in


def as_article(h: Headline) -> NewArticle:
    return NewArticle(url=h.url, source=h.source, title=h.title, text=h.title, published=h.published)


def wirewatch_labels(items: Sequence[Headline], db: Path) -> tuple[list[int], list[Edge]]:
    """Commit the stream one article per call, read each final cluster from the store.

    The index's place() is wrapped (on this instance only) to record the matches each placement acted on.
    """
    decisions: list[Placement] = []
    store = open_store(db)
    index = load_index(store)
    place = index.place

    def recording(fp: Fingerprint, candidates: Candidates) -> Placement:
        decisions.append(placement := place(fp, candidates))
        return placement

    index.place = recording  # type: ignore[method-assign]
    for h in items:
        commit_articles([as_article(h)], store, index, (), ALERTS, h.published)
    stored = store.articles.listing()
    store.close()
    position = {h.url: k for k, h in enumerate(items)}
    by_id = {a.id: position[a.url] for a in stored}
    cluster_of = {a.url: a.cluster_id for a in stored}
    edges = [
        Edge(k, by_id[other], other == p.matched_article_id)
        for k, p in enumerate(decisions)
        for other in ([p.matched_article_id] if p.matched_article_id else []) + list(p.also_matched)
    ]
    return [cluster_of[h.url] or -1 for h in items], edges


# --- plain baselines -------------------------------------------------------------------------------


def _minhash(tokens: set[str]) -> MinHash:
    mh = MinHash(num_perm=NUM_PERM)
    mh.update_batch([t.encode("utf-8") for t in sorted(tokens)])
    return mh


def lsh_union_labels(titles: Sequence[str], tokens: Callable[[str], set[str]], threshold: float) -> list[int]:
    """Streaming MinHash LSH: each title is unioned with every stored title LSH returns."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    uf = UnionFind(len(titles))
    for i, title in enumerate(titles):
        mh = _minhash(tokens(title) or {title.lower()})
        for j in lsh.query(mh):
            uf.union(i, j)
        lsh.insert(i, mh)
    return uf.labels()


# --- prototype rules (offline, behind --variants; dedup/ is untouched) -----------------------------

# NewsBlur's title rule (samuelclay/NewsBlur apps/clustering/models.py): stop words out, plural "s"
# stripped, digits out; a pair needs both titles >= 5 words, >= 3 shared, overlap coefficient >= 0.6.
NB_MIN_WORDS, NB_MIN_SHARED, NB_OVERLAP = 5, 3, 0.6
# Short-text guard on wirewatch's pair rule: Jaccard 0.14 on ~7-word titles is one shared word.
SHORT_JACCARD, SHORT_MIN_SHARED = 0.25, 3
# Cluster-level matching: IDF-weighted cosine of the article to the cluster's summed word counts.
CENTROID_COSINE = 0.1


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def title_words(title: str) -> frozenset[str]:
    """Significant title words as NewsBlur takes them: content words, no digits, plural "s" stripped."""
    return frozenset(_stem(w) for w in content_words(title.replace("'s", " ")) if not w.isdigit())


@dataclass
class Stream:
    """The headline stream as dedup sees it: fingerprints and the real StoryIndex's candidates."""

    items: Sequence[Headline]
    fps: list[Fingerprint]
    candidates: list[list[int]]

    @classmethod
    def build(cls, items: Sequence[Headline]) -> Stream:
        fps = [fingerprint_text(h.title, h.title) for h in items]
        index, candidates = StoryIndex(), []
        for i, (h, fp) in enumerate(zip(items, fps, strict=True)):
            seen, lsh_hash = h.published.timestamp(), index.lsh_hash(fp)
            candidates.append(index.candidates(fp, lsh_hash, seen, seen).ids)
            # No clusters here: the index counts no stories, so no term is left out as common.
            index.add(new_entry(i, None, fp, seen, seen, lsh_hash))
        return cls(items, fps, candidates)

    def words(self, i: int) -> frozenset[str]:
        return self.fps[i].words


PairScore = Callable[[int, int], float | None]


def pair_rule_labels(
    n: int, pool: Sequence[Sequence[int]], pair: PairScore, threshold: float, bridge: bool
) -> list[int]:
    """Streaming: join the best-scoring earlier article; with bridge, merge every match's cluster too."""
    uf = UnionFind(n)
    for i in range(n):
        hits = sorted((-s, j) for j in pool[i] if (s := pair(i, j)) is not None and s >= threshold)
        for _, j in hits if bridge else hits[:1]:
            uf.union(i, j)
    return uf.labels()


def word_pool(sets: Sequence[frozenset[str]]) -> list[list[int]]:
    """Exact candidates: every earlier item sharing a word (an inverted index, as NewsBlur uses)."""
    postings: dict[str, list[int]] = defaultdict(list)
    pool = []
    for i, s in enumerate(sets):
        pool.append(sorted({j for w in s for j in postings[w]}))
        for w in s:
            postings[w].append(i)
    return pool


def centroid_labels(
    sets: Sequence[frozenset[str]], pool: Sequence[Sequence[int]], threshold: float
) -> list[int]:
    """Single-pass clustering: join the candidate cluster whose word counts are closest (IDF cosine).

    Clusters never merge, so one ambiguous headline cannot bridge two stories; IDF comes from the
    stream so far, so shared rare names count more than shared topic words.
    """
    df: Counter[str] = Counter()
    clusters: list[Counter[str]] = []
    labels: list[int] = []
    for i, words in enumerate(sets):
        df.update(words)

        def idf(w: str, seen: int = i + 1) -> float:
            return math.log((seen + 1) / (df[w] + 0.5))

        vec = {w: idf(w) for w in words}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        best, target = 0.0, None
        for c in sorted({labels[j] for j in pool[i]}):
            centre = clusters[c]
            dot = sum(v * centre[w] * idf(w) for w, v in vec.items() if w in centre)
            size = math.sqrt(sum((n * idf(w)) ** 2 for w, n in centre.items())) or 1.0
            if (cos := dot / (norm * size)) > best:
                best, target = cos, c
        if target is None or best < threshold:
            target = len(clusters)
            clusters.append(Counter())
        clusters[target].update(words)
        labels.append(target)
    return labels


def variant_rules(stream: Stream) -> dict[str, Callable[[], list[int]]]:
    n, lsh = len(stream.items), stream.candidates
    words = [stream.words(i) for i in range(n)]
    titles = [title_words(h.title) for h in stream.items]
    exact, exact_titles = word_pool(words), word_pool(titles)

    def jac(i: int, j: int) -> float:
        return jaccard(words[i], words[j])

    def jac_guarded(i: int, j: int) -> float | None:
        return jac(i, j) if len(words[i] & words[j]) >= SHORT_MIN_SHARED else None

    def newsblur(i: int, j: int) -> float | None:
        a, b = titles[i], titles[j]
        if min(len(a), len(b)) < NB_MIN_WORDS or len(a & b) < NB_MIN_SHARED:
            return None
        return overlap_coefficient(a, b)

    rules: dict[str, Callable[[], list[int]]] = {
        "replica: J>=0.14 on LSH candidates, merge all matches": lambda: pair_rule_labels(
            n, lsh, jac, STORY_JACCARD, bridge=True
        ),
        "J>=0.14, best match only (no bridging merges)": lambda: pair_rule_labels(
            n, lsh, jac, STORY_JACCARD, bridge=False
        ),
        f"J>={SHORT_JACCARD} and >={SHORT_MIN_SHARED} shared words, merge all": lambda: pair_rule_labels(
            n, lsh, jac_guarded, SHORT_JACCARD, bridge=True
        ),
        "NewsBlur title rule, exact candidates": lambda: pair_rule_labels(
            n, exact_titles, newsblur, NB_OVERLAP, bridge=True
        ),
        "NewsBlur title rule, wirewatch LSH candidates": lambda: pair_rule_labels(
            n, lsh, newsblur, NB_OVERLAP, bridge=True
        ),
        f"cluster centroid, IDF cosine>={CENTROID_COSINE}, exact candidates": lambda: centroid_labels(
            words, exact, CENTROID_COSINE
        ),
        f"cluster centroid, IDF cosine>={CENTROID_COSINE}, LSH candidates": lambda: centroid_labels(
            words, lsh, CENTROID_COSINE
        ),
    }
    return rules


# --- diagnosis -----------------------------------------------------------------------------------------


def _quartiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return "/".join(f"{ordered[int(f * (len(ordered) - 1))]:.2f}" for f in (0.1, 0.5, 0.9))


def _pair_line(stream: Stream, i: int, j: int) -> str:
    a, b = stream.items[i], stream.items[j]
    shared = sorted(stream.words(i) & stream.words(j))
    ov = overlap_coefficient(title_words(a.title), title_words(b.title))
    sal_a = sorted(salient_terms(f"{a.title}.\n{a.title}"))
    sal_b = sorted(salient_terms(f"{b.title}.\n{b.title}"))
    return (
        f"  J={jaccard(stream.words(i), stream.words(j)):.2f} title-overlap={ov:.2f} shared={shared}"
        f" lsh={'yes' if j in stream.candidates[i] else 'no'}\n"
        f"    {a.title!r}\n      salient {sal_a}\n    {b.title!r}\n      salient {sal_b}"
    )


def diagnose(stream: Stream, pred: Sequence[int], edges: Sequence[Edge], k: int = 6) -> None:
    """Where wirewatch errs: the matches that crossed stories, and same-story pairs left apart."""
    items, rng = stream.items, random.Random(7)
    gold = [h.story for h in items]
    sizes = Counter(pred)
    top, top_size = sizes.most_common(1)[0]
    print(
        f"\nlargest wirewatch cluster: {top_size:,} of {len(items):,} headlines, "
        f"{len({gold[i] for i in range(len(items)) if pred[i] == top})} stories"
    )
    cross = [e for e in edges if gold[e.i] != gold[e.j]]
    print(
        f"matches acted on: {len(edges):,}; cross-story {len(cross):,} "
        f"({sum(e.best for e in cross):,} best matches, {sum(not e.best for e in cross):,} bridging merges)"
    )
    same_j = [jaccard(stream.words(e.i), stream.words(e.j)) for e in edges if gold[e.i] == gold[e.j]]
    cross_j = [jaccard(stream.words(e.i), stream.words(e.j)) for e in cross]
    shared_n = Counter(min(3, len(stream.words(e.i) & stream.words(e.j))) for e in cross)
    print(
        f"content-word Jaccard p10/p50/p90: same-story matches {_quartiles(same_j)}, "
        f"cross-story {_quartiles(cross_j)}"
    )
    print(f"cross-story matches sharing 1/2/3+ content words: {shared_n[1]}/{shared_n[2]}/{shared_n[3]}")
    bridge_words = Counter(w for e in cross for w in stream.words(e.i) & stream.words(e.j))
    print(f"words most shared by cross-story matches: {[w for w, _ in bridge_words.most_common(15)]}")
    same = [(i, j) for i in range(len(items)) for j in range(i) if gold[i] == gold[j]]
    disjoint = sum(not stream.words(i) & stream.words(j) for i, j in same)
    share = disjoint / len(same)
    print(f"same-story pairs sharing no content word: {disjoint:,} of {len(same):,} ({share:.0%})")
    salient = [salient_terms(f"{h.title}.\n{h.title}") for h in items]
    print(
        f"salient terms per headline p10/p50/p90 {_quartiles([len(s) for s in salient])}; "
        f"empty (content words used instead): {sum(not s for s in salient)}"
    )
    print("\nsample cross-story matches (wrong merges):")
    for e in rng.sample(cross, min(k, len(cross))):
        print(_pair_line(stream, e.i, e.j))
    split = [(i, j) for i in range(len(items)) for j in range(i) if gold[i] == gold[j] and pred[i] != pred[j]]
    split_j = [jaccard(stream.words(i), stream.words(j)) for i, j in split]
    retrieved = sum(j in stream.candidates[i] for i, j in split)
    print(
        f"\nwrongly split pairs (same story, different cluster): {len(split):,}; content-word Jaccard "
        f"p10/p50/p90 {_quartiles(split_j)}; among LSH candidates {retrieved:,}"
    )
    for i, j in rng.sample(split, min(k, len(split))):
        print(_pair_line(stream, i, j))


# --- quality run -------------------------------------------------------------------------------------


def _row(name: str, s: Scores, seconds: float) -> str:
    return (
        f"{name:<62} {s.b3_p:5.3f} {s.b3_r:5.3f} {s.b3_f1:5.3f}  {s.pw_p:5.3f} {s.pw_r:5.3f} {s.pw_f1:5.3f}"
        f" {s.clusters:6d} {seconds:6.1f}"
    )


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def run_quality(variants: bool) -> None:
    items = load_headlines()
    gold = [h.story for h in items]
    titles = [h.title for h in items]
    print(
        f"quality: {len(items):,} headlines, {len(set(gold))} stories, time order, text=TITLE, "
        "one article per commit_articles call"
    )
    print(
        f"{'method':<62} {'B3 P':>5} {'B3 R':>5} {'B3 F1':>5}  {'pw P':>5} {'pw R':>5} {'pw F1':>5}"
        f" {'clust':>6} {'sec':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (ww, edges), ww_s = timed(lambda: wirewatch_labels(items, Path(tmp) / "quality.db"))
    print(_row("wirewatch commit_articles (store cluster_id)", score(ww, gold), ww_s))
    baselines: list[tuple[str, Callable[[str], set[str]], float]] = [
        ("MinHashLSH word 3-shingles @0.5, union (baseline)", shingles, 0.5),
        ("MinHashLSH content words @0.4, union (baseline)", content_words, 0.4),
    ]
    for name, tokens, threshold in baselines:
        labels, seconds = timed(partial(lsh_union_labels, titles, tokens, threshold))
        print(_row(name, score(labels, gold), seconds))
    # The figure that carries over to unseen stories: fitted without the held-out stories' labels.
    from benchmarks.story_cv import cross_validate, fingerprints, report

    print("-- story model, grouped 5-fold cross-validation by story (dedup in memory) --")
    report(cross_validate(items, fingerprints(items)))
    if not variants:
        return
    stream, seconds = timed(lambda: Stream.build(items))
    print(f"-- prototypes (offline; fingerprints + StoryIndex candidates built once in {seconds:.1f} s) --")
    for name, rule in variant_rules(stream).items():
        labels, seconds = timed(rule)
        print(_row(name, score(labels, gold), seconds))
    diagnose(stream, ww, edges)


# --- scale run ----------------------------------------------------------------------------------------

_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "ix", "um"]


ARTICLES_PER_STORY = 20


@dataclass(frozen=True, slots=True)
class SyntheticStory:
    names: tuple[str, ...]
    topic: tuple[str, ...]


class SyntheticCorpus:
    """Deterministic articles: each story has rare name-like tokens and topic words over common words."""

    def __init__(self, seed: int = 20140310, stories: int = 5000, vocab: int = 20000, names: int = 25000):
        self.rng = random.Random(seed)
        self.general = self._words(vocab, 1, 4)
        self.general_cum = list(itertools.accumulate(1 / (r + 1) for r in range(vocab)))
        # Names recur across stories with a Zipf-like skew, as a few people and places are in many stories.
        self.names = [w.capitalize() for w in self._words(names, 2, 4)]
        self.names_cum = list(itertools.accumulate(1 / (r + 1) ** 0.7 for r in range(names)))
        self.stories = [
            SyntheticStory(
                names=tuple(
                    self.rng.choices(self.names, cum_weights=self.names_cum, k=self.rng.randint(8, 16))
                ),
                topic=tuple(self.rng.choices(self.general[200:5000], k=40)),
            )
            for _ in range(stories)
        ]
        self.start = datetime(2014, 3, 10, tzinfo=UTC)

    def _words(self, n: int, lo: int, hi: int) -> list[str]:
        out: dict[str, None] = {}
        while len(out) < n:
            out["".join(self.rng.choices(_SYLLABLES, k=self.rng.randint(lo, hi)))] = None
        return list(out)

    def _word(self, story: SyntheticStory) -> str:
        roll = self.rng.random()
        if roll < 0.06:
            return self.rng.choice(story.names)
        if roll < 0.08:  # a passing mention of someone or somewhere outside the story
            return self.rng.choices(self.names, cum_weights=self.names_cum)[0]
        if roll < 0.09:
            return str(self.rng.choice((self.rng.randint(1, 100), self.rng.randint(1900, 2030))))
        if roll < 0.30:
            return self.rng.choice(story.topic)
        return self.rng.choices(self.general, cum_weights=self.general_cum)[0]

    def _sentence(self, story: SyntheticStory) -> str:
        words = [self._word(story) for _ in range(self.rng.randint(8, 22))]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def article(self, i: int) -> tuple[NewArticle, int]:
        """Article i and its story: stories are active in a sliding window, as news is over time."""
        centre = i // ARTICLES_PER_STORY
        s = min(len(self.stories) - 1, max(0, centre + self.rng.randint(-40, 40)))
        story = self.stories[s]
        title = " ".join(self.rng.choice(story.names + story.topic) for _ in range(self.rng.randint(6, 11)))
        sentences: list[str] = []
        target = self.rng.randint(150, 300)
        while sum(len(x.split()) for x in sentences) < target:
            sentences.append(self._sentence(story))
        published = self.start + timedelta(seconds=30 * i)
        source = f"source{self.rng.randint(1, 300)}"
        url = f"https://{source}.example/{i}"
        return NewArticle(
            url=url,
            source=source,
            title=title.capitalize(),
            text=" ".join(sentences),
            published=published,
            language="en",  # as extraction detects it: cross-language links are looked for
        ), s


def scale_topics(corpus: SyntheticCorpus) -> tuple[TopicConfig, ...]:
    """Topics for the store path's topic match, as a user watching a few subjects has: eight on
    one fairly common name each (each matches about 1-2% of the stream), one on either of two
    frequent names followed as developments, and one for German articles only (none here)."""
    names = corpus.names
    return (
        *(TopicConfig(f"name-{k}", names[50 + k]) for k in range(8)),
        TopicConfig("developments", f"{names[20]} OR {names[21]}", mode="developments"),
        TopicConfig("german", names[5], languages=("de",)),
    )


def count_candidates(index: StoryIndex) -> list[int]:
    """Count the candidates the index returns (instance-level wrapper; the class is untouched)."""
    counts = [0]
    query = index.candidates

    def counted(fp: Fingerprint, lsh_hash: LeanMinHash, seen: float | None, arrived: float) -> Candidates:
        found = query(fp, lsh_hash, seen, arrived)
        counts[-1] += len(found)
        return found

    index.candidates = counted  # type: ignore[method-assign]
    return counts


def index_bytes_per_article(count: int) -> float:
    """What the story index keeps of an article, by tracemalloc: `count` synthetic articles
    fingerprinted and indexed one by one, their fingerprints dropped (the model's load excluded)."""
    corpus = SyntheticCorpus(stories=5000)
    articles = [corpus.article(n)[0] for n in range(count)]
    index = StoryIndex()
    fingerprint_text("warm", "up")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, article in enumerate(articles):
            fp = fingerprint_text(article.title, article.text)
            index.add(new_entry(n, n // 5, fp, float(n), float(n), index.lsh_hash(fp)))
        del fp
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()


def opened_index_bytes_per_article(store: Store) -> tuple[int, float]:
    """What the story index a run opens from the store keeps of an article, by tracemalloc: its
    window's articles and bytes per article (the model's load excluded)."""
    fingerprint_text("warm", "up")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = load_index(store)
        gc.collect()
        return len(index), (tracemalloc.get_traced_memory()[0] - before) / max(1, len(index))
    finally:
        tracemalloc.stop()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scale(
    total: int, budget_s: float = 0.0, batch: int = 1000, report_every: int = 0, fingerprint_workers: int = 0
) -> None:
    """Commit `total` synthetic articles (or stop once commit time passes budget_s) and report speed:
    the rate over each report interval (10,000 articles; 100,000 from a 500,000 run) and the index's
    open time, each as a ratio to the first interval (or open) with a full window. With
    `fingerprint_workers`, articles are read (fingerprints, sentences, anchors) on that many
    worker processes, as a run's commit does on a machine with that many cores
    (flows.extract_pool.ReadingOnCores)."""
    report_every = report_every or (100_000 if total >= 500_000 else 10_000)
    opens = {m for m in (100_000, 500_000, 1_000_000, total) if m <= total}  # index open timed there
    corpus = SyntheticCorpus(stories=max(5000, total // ARTICLES_PER_STORY))
    print(
        f"\nindex memory: {index_bytes_per_article(3000):,.0f} bytes per article "
        "(tracemalloc, 3,000 articles)"
    )
    print(
        f"\nscale: {total:,} synthetic articles, batches of {batch:,}, "
        f"peak RSS before {peak_rss_mb():.0f} MB, "
        + (
            f"fingerprints on {fingerprint_workers} worker processes"
            if fingerprint_workers
            else "one process"
        )
    )
    reader = ReadingOnCores(fingerprint_workers)  # in this process when 0
    topics = scale_topics(corpus)
    gold: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "scale.db")
        index = load_index(store)
        found = count_candidates(index)
        spent, interval_spent, interval_done, first_rate, first_open = 0.0, 0.0, 0, 0.0, 0.0
        for start in range(0, total, batch):
            made = [corpus.article(i) for i in range(start, min(total, start + batch))]
            gold.update((a.url, s) for a, s in made)
            articles = [a for a, _ in made]
            t0 = time.perf_counter()
            found.append(0)
            when = articles[-1].published or datetime.now(UTC)
            commit_articles(articles, store, index, topics, ALERTS, when, None, reader)
            took = time.perf_counter() - t0
            spent += took
            interval_spent += took
            interval_done += len(articles)
            done = start + len(articles)
            over = bool(budget_s) and spent > budget_s
            full = len(index) < done  # the window has evicted: cost follows it, not the store
            if done % report_every == 0 or done == total or over:
                rate = interval_done / interval_spent
                first_rate = first_rate or (rate if full else 0.0)
                ratio = f"{rate / first_rate:4.2f}x the first full window" if full else "window filling"
                print(
                    f"  {done:>9,} stored: {rate:6.0f} articles/s over the last {interval_done:,} ({ratio}), "
                    f"{sum(found[-interval_done // batch :]) / interval_done:3.0f} LSH candidates/article, "
                    f"{len(index):,} in the index window, commit {spent:7.1f} s, "
                    f"peak RSS {peak_rss_mb():5.0f} MB",
                    flush=True,
                )
                interval_spent, interval_done = 0.0, 0
            if full and not first_open:
                opened, per_article = opened_index_bytes_per_article(store)
                print(
                    f"  index memory as a run opens it: {per_article:,.0f} bytes per article "
                    f"(tracemalloc, {opened:,} in the window)",
                    flush=True,
                )
            if (full and not first_open) or done in opens:
                # As a run opens it, in a fresh process: not paying the commits' deferred garbage.
                gc.collect()
                t0 = time.perf_counter()
                opened = len(load_index(store))
                took = time.perf_counter() - t0
                first_open = first_open or took
                print(
                    f"  load_index at {done:,} stored: {opened:,} in the window, {took:.2f} s "
                    f"({took / first_open:4.2f}x the first full window's; "
                    f"{took / opened * 1e5:.2f} s per 100,000 indexed)",
                    flush=True,
                )
            if over:
                print(f"  stopped at {done:,} articles: commit time passed the {budget_s:.0f} s budget")
                break
        reader.close()
        print(f"  peak RSS {peak_rss_mb():.0f} MB")
        matches, alerts = (
            store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("topic_matches", "alerts")
        )
        print(f"  {len(topics)} topics: {matches:,} matches, {alerts:,} alerts")
        stored = store.articles.listing()
        store.close()
    s = score([a.cluster_id or -1 for a in stored], [gold[a.url] for a in stored])
    print(
        f"  synthetic grouping: B3 P/R/F1 {s.b3_p:.3f}/{s.b3_r:.3f}/{s.b3_f1:.3f}, {s.clusters:,} clusters "
        f"for {len(set(gold.values())):,} stories"
    )


def run_dedup_only(total: int, report_every: int = 0) -> None:
    """The same synthetic articles placed by dedup alone, in memory: fingerprint (in chunks, as
    commit_articles does), LSH candidates, decision and index update a commit chunk at a time
    (StoryIndex.open_chunk), without the store. Shows what clustering itself costs per article."""
    report_every = report_every or (100_000 if total >= 500_000 else 10_000)
    corpus = SyntheticCorpus(stories=max(5000, total // ARTICLES_PER_STORY))
    index, clusters, first_rate = StoryIndex(), 0, 0.0
    print(f"\ndedup alone (in memory, no store): {total:,} synthetic articles")
    for start in range(0, total, report_every):
        articles = [corpus.article(i)[0] for i in range(start, min(total, start + report_every))]
        t0 = time.perf_counter()
        fps = list(fingerprint_in_chunks([(a.title, a.text) for a in articles]))
        times = [(a.published or datetime.now(UTC)).timestamp() for a in articles]
        for first in range(0, len(articles), COMMIT_CHUNK):  # placed a commit chunk at a time
            chunk = range(first, min(len(articles), first + COMMIT_CHUNK))
            index.open_chunk([fps[k] for k in chunk], [times[k] for k in chunk], [times[k] for k in chunk])
            for k in chunk:
                fp, seen = fps[k], times[k]
                lsh_hash = index.lsh_hash(fp)
                placement = index.place(fp, index.candidates(fp, lsh_hash, seen, seen))
                if placement.matched_article_id is None:
                    cluster, clusters = clusters, clusters + 1
                else:
                    cluster = index.cluster_of(placement.matched_article_id) or 0
                index.add(new_entry(start + k, cluster, fp, seen, seen, lsh_hash))
            index.close_chunk()
        rate = len(articles) / (time.perf_counter() - t0)
        full = len(index) < start + len(articles)
        first_rate = first_rate or (rate if full else 0.0)
        ratio = f"{rate / first_rate:4.2f}x the first full window" if full else "window filling"
        print(
            f"  {start + len(articles):>8,} placed: batch {rate:6.0f} articles/s ({ratio}), "
            f"{len(index):,} in the index window",
            flush=True,
        )


def run_profile(total: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run_scale(total, report_every=1000)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main(argv: Iterator[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic articles for the scale run")
    parser.add_argument("--budget", type=float, default=0, metavar="S", help="stop the scale run after S s")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--variants", action="store_true", help="prototype title rules and error samples")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile an N-article scale run")
    parser.add_argument(
        "--fingerprint-workers",
        type=int,
        default=0,
        metavar="W",
        help="read (fingerprint) the store path's batches on W worker processes (default: in the process)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.skip_quality:
        run_quality(args.variants)
    if args.profile:
        run_profile(args.profile)
    elif not args.skip_scale:
        run_scale(args.scale, args.budget, fingerprint_workers=args.fingerprint_workers)
        run_dedup_only(args.scale)


if __name__ == "__main__":
    main()
