"""Where the time of `wirewatch run` on the demo goes: Prefect's fixed start-up vs the pipeline.

Run: python -m benchmarks.run_demo
Measures, in one run on this machine:
  1. the pipeline's stages as plain functions (no Prefect) over the demo corpus on loopback;
  2. the whole `wirewatch run` command in a subprocess (Prefect start-up included);
and prints each with its ratio to the plain pipeline, the baseline measured here.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from fetch.http import Fetcher
from flows.commit import commit_articles, deliver_alerts, load_index
from flows.stages import extract_articles, fetch_pages, poll_feeds, strip_source_templates
from store import open_store
from wirewatch.config import load_settings
from wirewatch.demo_server import serve_demo
from wirewatch.timeutil import utc_now


def plain_pipeline(db: Path) -> float:
    settings = load_settings(None, db_override=str(db), env={"WIREWATCH_CONFIG": ""})
    start = time.perf_counter()
    with serve_demo() as proxy:
        settings = replace(settings, fetch=replace(settings.fetch, proxy=proxy))
        store = open_store(settings.database)
        with Fetcher(settings.fetch) as fetcher:
            poll = poll_feeds(settings.feeds, store, fetcher, utc_now())
            pages, _ = fetch_pages(poll.entries, store, fetcher)
        articles, _ = extract_articles(pages)
        articles, _ = strip_source_templates(articles, store.source_paragraph_counts)
        commit_articles(
            articles, store, load_index(store), settings.topics, settings.alerts, utc_now(), poll.fetched
        )
        deliver_alerts(store, settings.alerts, utc_now())
        store.close()
    return time.perf_counter() - start


def cli_run(workdir: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", "run"], cwd=workdir, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = plain_pipeline(base / "plain.db")
        (base / "cli").mkdir()
        whole = cli_run(base / "cli")
        again = cli_run(base / "cli")
    rows = [
        ("pipeline stages, plain functions (baseline)", plain),
        ("wirewatch run, first (Prefect start-up + flow)", whole),
        ("wirewatch run, second (nothing new)", again),
        ("Prefect fixed cost (first run - baseline)", whole - plain),
    ]
    print(f"{'measurement':50} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:50} {seconds:8.2f} {seconds / plain:11.1f}")


if __name__ == "__main__":
    main()
