"""Does the whole pipeline keep up with extraction on every core? The demo's outlets x N on loopback.

Run: python -m benchmarks.pipeline_cores [--copies 50]
Builds a site from the demo corpus: each feed item repeated --copies times, each copy a page of
its own (a new address, and the copy's number in each paragraph, so copies are distinct pages
and not a source's template). Measures in one run, on every core:
  1. extraction only: the site's pages, read from disk, through the extract stage on worker
     processes, as a run extracts (the baseline);
  2. the whole pipeline as plain stages, no Prefect: poll the feeds, fetch the pages on
     loopback while worker processes extract those already in (as a run does), strip
     templates, store/cluster/match, alerts;
and prints pages/s of each and their ratio (the goal: the pipeline at least 0.8x extraction).
  3. the CPU budget, on one core: the ms of CPU a page costs to extract, to read (fingerprint,
     sentences, anchors: dedup.reading) and to place (store, cluster, match, with its reading
     given), on the same pages (or --budget-pages of them) into a new store, as the pipeline
     does; and the ratio they allow: however the work is spread over the cores, the pipeline
     can reach at most extract / (extract + read + place) of the extraction-only rate.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from wirewatch.config import load_settings
from wirewatch.dedup.reading import read_in_chunks
from wirewatch.demo_server import demo_root
from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import commit_articles, deliver_alerts, load_index
from wirewatch.flows.extract_pool import (
    ExtractionStream,
    ReadingOnCores,
    available_cores,
    extract_on_cores,
)
from wirewatch.flows.stages import extract_articles, fetch_pages, poll_feeds, strip_source_templates
from wirewatch.records import NewArticle, Page
from wirewatch.store import open_store
from wirewatch.timeutil import utc_now

_ITEM = re.compile(r"<(item|entry)\b.*?</\1>", re.DOTALL)  # RSS 2.0 and 1.0 items, Atom entries
_ID_END = re.compile(r"</(guid|id|dc:identifier)>")
_PAGE_LINK = re.compile(r"/pages/(\w+)/([\w-]+\.html)")


def build_site(root: Path, copies: int) -> list[Path]:
    """The demo's feeds with every item repeated; returns the pages written."""
    source = demo_root()
    pages: list[Path] = []
    for outlet in (source / "pages").iterdir():
        (root / "pages" / outlet.name).mkdir(parents=True)
        for page in outlet.glob("*.html"):
            html = page.read_text(encoding="utf-8")
            for n in range(copies):
                target = root / "pages" / outlet.name / f"{n}-{page.name}"
                target.write_text(html.replace("</p>", f" Copy {n}.</p>"), encoding="utf-8")
                pages.append(target)
    (root / "feeds").mkdir()
    for feed in (source / "feeds").glob("*.xml"):
        xml = feed.read_text(encoding="utf-8")
        items = [m.group(0) for m in _ITEM.finditer(xml)]
        copied = [
            _ID_END.sub(rf"-copy{n}</\1>", _PAGE_LINK.sub(rf"/pages/\1/{n}-\2", item))
            for n in range(copies)
            for item in items
        ]
        head, tail = xml[: xml.index(items[0])], xml[xml.rindex(items[-1]) + len(items[-1]) :]
        (root / "feeds" / feed.name).write_text(head + "\n".join(copied) + tail, encoding="utf-8")
    return pages


def extract_all(pages: list[Page], workers: int) -> list[NewArticle]:
    results, why = extract_on_cores(pages, workers)
    if why:
        raise SystemExit(why)
    return [a for articles, _ in results for a in articles]


def pages_of(files: list[Path]) -> list[Page]:
    """The site's pages read from disk, each of its outlet."""
    return [
        Page(
            url=f.as_uri(), source=f.parent.name, body=f.read_text(encoding="utf-8"), content_type="text/html"
        )
        for f in files
    ]


def extraction_only(files: list[Path], workers: int) -> float:
    pages = pages_of(files)
    start = time.perf_counter()
    extract_all(pages, workers)
    return len(pages) / (time.perf_counter() - start)


@contextmanager
def site_server(root: Path) -> Iterator[str]:
    """The site served by a process of its own, as a real site is served elsewhere: a server
    thread in this process would take the GIL from the fetcher. Yields its proxy URL."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from wirewatch.demo_server import serve_demo\n"
        "with serve_demo(Path(sys.argv[1])) as proxy:\n"
        "    print(proxy, flush=True)\n"
        "    time.sleep(3600)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.kill()
        server.wait()


def whole_pipeline(root: Path, db: Path, workers: int) -> tuple[float, int, dict[str, float]]:
    """Pages/s of the whole pipeline, the pages fetched and the seconds of each stage."""
    # The demo's own config (its feeds' paths are the site's), as benchmarks.run_demo loads it.
    settings = load_settings(None, db_override=str(db), env={"WIREWATCH_CONFIG": ""})
    stages: dict[str, float] = {}
    with site_server(root) as proxy:
        # The site is one host; the per-host limit of 8 stands for the many hosts of real feeds.
        settings = replace(
            settings, fetch=replace(settings.fetch, proxy=proxy, per_host_concurrency=8, concurrency=8)
        )
        start = mark = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            stages[stage], mark = now - mark, now

        store = open_store(settings.database)
        with Fetcher(settings.fetch) as fetcher, ExtractionStream(workers) as stream:
            poll = poll_feeds(settings.feeds, store, fetcher, utc_now())
            lap("poll")
            # As a run does (flows.pipeline.fetch_and_extract_task): extraction starts as pages arrive.
            pages, _ = fetch_pages(poll.entries, store, fetcher, on_page=stream.add)
            lap("fetch (extracting meanwhile)")
            extracted = [a for articles, _ in stream.results() for a in articles]
        lap("rest of the extraction")
        articles, _ = strip_source_templates(extracted, store.articles.source_paragraph_counts)
        with ReadingOnCores(workers) as reader:  # as the flow's commit task does
            commit_articles(
                articles,
                store,
                load_index(store),
                settings.topics,
                settings.alerts,
                utc_now(),
                poll.fetched,
                reader,
            )
        lap("templates, store, cluster, match")
        deliver_alerts(store, settings.alerts, utc_now())
        store.close()
        lap("alerts")
        return len(pages) / (time.perf_counter() - start), len(pages), stages


def cpu_budget(files: list[Path], db: Path) -> dict[str, float]:
    """ms of CPU (this process, one core) a page costs to extract, read and place (into a new
    store, as whole_pipeline places them)."""
    pages = pages_of(files)
    # What a process pays once (the extractor's and the embedding model's first calls) is not a page's.
    list(read_in_chunks([(a.title, a.text, a.language) for a in extract_articles(pages[:2])[0]]))
    costs: dict[str, float] = {}
    started = time.process_time()
    articles, _ = extract_articles(pages)
    costs["extract"] = time.process_time() - started
    started = time.process_time()
    readings = list(read_in_chunks([(a.title, a.text, a.language) for a in articles]))
    costs["read"] = time.process_time() - started
    by_text = {(a.title, a.text): reading for a, reading in zip(articles, readings, strict=True)}
    settings = load_settings(None, db_override=str(db), env={"WIREWATCH_CONFIG": ""})
    store = open_store(db)
    started = time.process_time()
    commit_articles(
        articles,
        store,
        load_index(store),
        settings.topics,
        settings.alerts,
        utc_now(),
        None,
        lambda items: iter([by_text[(title, text)] for title, text, _ in items]),
    )
    costs["place"] = time.process_time() - started
    store.close()
    return {stage: 1000 * seconds / len(pages) for stage, seconds in costs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="copies of each demo item")
    parser.add_argument(
        "--budget-pages", type=int, default=0, help="pages of the one-core CPU budget (default: all)"
    )
    args = parser.parse_args()
    workers = available_cores()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        files = build_site(root, args.copies)
        # Start multiprocessing's fork server first (1-2 s, once per process), as a run of this
        # many pages starts it (the readers warm): neither figure pays it.
        extract_on_cores(pages_of(files[:workers]), workers, warm_readers=True)
        extraction = extraction_only(files, workers)
        pipeline, fetched, stages = whole_pipeline(root, Path(tmp) / "bench.db", workers)
        step = max(1, len(files) // args.budget_pages) if args.budget_pages else 1
        budget = cpu_budget(files[::step], Path(tmp) / "budget.db")
    print(f"{len(files)} pages on {workers} worker processes")
    print(f"extraction only  {extraction:8.1f} pages/s")
    print(f"whole pipeline   {pipeline:8.1f} pages/s ({fetched} pages fetched)")
    print(f"pipeline / extraction: {pipeline / extraction:.2f}")
    print("seconds by stage: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in stages.items()))
    print("CPU a page, one core: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in budget.items()))
    most = budget["extract"] / sum(budget.values())
    print(
        f"the most the pipeline can reach on any number of cores: {most:.2f} of extraction"
        f" (0.8 would need reading and placing under {budget['extract'] / 4:.2f} ms a page)"
    )


if __name__ == "__main__":
    main()
