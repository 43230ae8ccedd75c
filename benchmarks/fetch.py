"""The fetch stage against a bare httpx async loop: 500 feeds x 20 items served on loopback.

Run: python -m benchmarks.fetch [--feeds 500] [--items 20]
Both fetch the same 500 feed documents from the same loopback server in the same run, so the
ratio (bare seconds / wirewatch seconds; 1.0 = as fast, goal >= 0.8) is what it costs to be
polite and safe (conditional GET, byte caps, redirect checks, per-host limits, feed state in
SQLite, parsing). The bare loop also parses with feedparser, so both do the same work. Then
the Prefect overhead per run: the same stage inside a flow run vs called plainly.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the `fetch` package it measures; run as a script, its own folder
# would come first on sys.path and shadow that package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import httpx
from prefect import flow

from wirewatch.fetch.http import Fetcher
from wirewatch.flows.pipeline import poll_feeds_task
from wirewatch.flows.stages import poll_feeds
from wirewatch.settings import FeedConfig, FetchSettings, Settings
from wirewatch.store import open_store


def feed_document(n: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>Story {n}-{i} about harbour pilots and council budgets</title>"
        f"<link>http://127.0.0.1/story/{n}/{i}</link><guid>s-{n}-{i}</guid>"
        f"<pubDate>Mon, 23 Nov 2026 0{i % 10}:00:00 GMT</pubDate>"
        f"<description>Summary of story {i} in feed {n}, a sentence or two long.</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>http://127.0.0.1/</link>{entries}</channel></rss>"
    ).encode()


@contextmanager
def serve_feeds(count: int, items: int) -> Iterator[str]:
    documents = {f"/feed/{n}.xml": feed_document(n, items) for n in range(count)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{hash(body)}"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def bare_fetch(urls: list[str], concurrency: int) -> int:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(url: str) -> int:
            async with limit:
                response = await client.get(url)
            return len(feedparser.parse(response.content).entries)

        return sum(await asyncio.gather(*(one(u) for u in urls)))


def wirewatch_fetch(feeds: list[FeedConfig], settings: FetchSettings, db: Path) -> int:
    store = open_store(db)
    with Fetcher(settings) as fetcher:
        poll = poll_feeds(feeds, store, fetcher, datetime.now(UTC))
        store.feeds.record_outcomes(poll.fetched)  # as the commit stage does
    store.close()
    return len(poll.entries)


@flow(name="bench-poll")
def bench(run_settings: Settings) -> None:
    poll_feeds_task(run_settings, False)


def prefect_overhead(feeds: list[FeedConfig], settings: FetchSettings, tmp: Path) -> tuple[float, float]:
    small = feeds[:20]
    plain_start = time.perf_counter()
    wirewatch_fetch(small, settings, tmp / "plain.db")
    plain = time.perf_counter() - plain_start

    bench(Settings(feeds=tuple(small), fetch=settings, database=str(tmp / "warm.db")))  # server start-up
    start = time.perf_counter()
    bench(Settings(feeds=tuple(small), fetch=settings, database=str(tmp / "flow.db")))
    return plain, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--skip-prefect", action="store_true")
    args = parser.parse_args()
    settings = FetchSettings(allow_private_networks=True, concurrency=16, per_host_concurrency=16)
    with serve_feeds(args.feeds, args.items) as base, tempfile.TemporaryDirectory() as tmp:
        feeds = [FeedConfig(name=f"Feed {n}", url=f"{base}/feed/{n}.xml") for n in range(args.feeds)]
        bare_start = time.perf_counter()
        bare_entries = asyncio.run(bare_fetch([f.url for f in feeds], settings.concurrency))
        bare = time.perf_counter() - bare_start
        ours_start = time.perf_counter()
        ours_entries = wirewatch_fetch(feeds, settings, Path(tmp) / "w.db")
        ours = time.perf_counter() - ours_start
        print(f"{args.feeds} feeds x {args.items} items on loopback, concurrency {settings.concurrency}")
        print(f"{'fetcher':34} {'seconds':>8} {'entries':>8} {'feeds/s':>8}")
        print(f"{'bare httpx async + feedparser':34} {bare:8.2f} {bare_entries:8d} {args.feeds / bare:8.0f}")
        print(f"{'wirewatch poll_feeds':34} {ours:8.2f} {ours_entries:8d} {args.feeds / ours:8.0f}")
        print(f"ratio (bare / wirewatch, goal >= 0.8): {bare / ours:.2f}")
        if not args.skip_prefect:
            plain, in_flow = prefect_overhead(feeds, replace(settings), Path(tmp))
            print(
                f"Prefect overhead per run (20 feeds, server warm): {in_flow - plain:+.2f} s "
                f"(plain {plain:.2f} s, in a flow run {in_flow:.2f} s)"
            )


if __name__ == "__main__":
    main()
