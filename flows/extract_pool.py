"""Extraction and reading on every core. trafilatura holds the GIL, so the task runner's
threads share one core (measured: 2 threads 1.0x one); worker processes do not. The store stays
single-writer: the workers only turn pages into articles, and articles into their readings
(fingerprint, sentences, anchors: dedup.reading), and hand them back in order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

from wirewatch.dedup.reading import ArticleReading, ArticleText, read_in_chunks, read_many
from wirewatch.flows.stages import StageReport, extract_articles
from wirewatch.records import NewArticle, Page

# Workers are forked from a clean server process (multiprocessing's forkserver), not from the
# flow's process with its threads. It imports once what every worker needs: the extractor
# (trafilatura, lxml: about a second) and Prefect, which a worker would otherwise import again
# as it re-imports the main module (`python -m prefect.engine` under `wirewatch serve`): 2 s
# per worker per run, measured. Prefect only when this process runs a flow: `wirewatch ingest`
# without a Prefect server does not import it. The main module itself is not preloaded: the
# server would run a script without a main guard, flow and all. A run large enough to read its
# articles on workers too (MIN_PARALLEL_READINGS) has flows.worker_warmup load the embedding
# model and the readers' tables there (0.5 s, once, rather than by each worker while placing
# waits); a smaller one, whose server starts as its fetching waits, does not pay it.
_PRELOAD = ["wirewatch.flows.stages", "wirewatch.dedup.reading"]
_WARM_READERS = ["wirewatch.flows.worker_warmup"]

CHUNK_PAGES = 25

BatchResult = tuple[list[NewArticle], StageReport]


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(configured: int) -> int:
    return configured if configured > 0 else available_cores()


# Workers yield to the flow's process: it alone fetches pages and places articles (the single
# writer), so it must not wait its turn behind them when every core is busy. With one worker a
# core beside it, three busy processes shared two cores evenly, and the flow's process was busy
# only 55-70% of the time while placing. At niceness 5 the kernel weighs a worker at about a third
# of it; the workers still take every cycle it leaves.
WORKER_NICENESS = 5


def _yield_to_the_flow() -> None:
    os.nice(WORKER_NICENESS)


def _pool(workers: int, warm_readers: bool = False) -> ProcessPoolExecutor:
    """A pool of `workers` processes from the fork server (started now, if it is not yet, with the
    readers warm if `warm_readers`)."""
    context = multiprocessing.get_context("forkserver")
    prefect = ["prefect"] if "prefect" in sys.modules else []
    context.set_forkserver_preload(_PRELOAD + prefect + (_WARM_READERS if warm_readers else []))
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_yield_to_the_flow)


def extract_on_cores(
    pages: Sequence[Page],
    workers: int,
    on_chunk: Callable[[BatchResult], None] | None = None,
    warm_readers: bool | None = None,
) -> tuple[list[BatchResult], str | None]:
    """Pages known in advance on worker processes (an ExtractionStream fed at once), in chunks
    of _chunk_size() (at most CHUNK_PAGES). The second value says why workers could not be used,
    if so: a program that starts wirewatch's flow from a script without an
    `if __name__ == "__main__":` guard cannot start them (Python re-imports the script in each),
    and its run goes on, on one core. `warm_readers`: start the fork server with the readers
    warm (by default when there are enough pages to read them on workers next)."""
    size = _chunk_size(len(pages), workers, 1, CHUNK_PAGES)
    if warm_readers is None:
        warm_readers = len(pages) >= MIN_PARALLEL_READINGS
    with ExtractionStream(workers, on_chunk, chunk_pages=size, warm_readers=warm_readers) as stream:
        for page in pages:
            stream.add(page)
        return stream.results(), stream.fallback


def _chunk_size(count: int, workers: int, smallest: int, largest: int) -> int:
    """About four chunks per worker, so that no worker idles while another finishes a long one."""
    return max(smallest, min(largest, math.ceil(count / (workers * 4))))


def _fallback(exc: BaseException, doing: str) -> str:
    """Why the workers failed, in one line; re-raised inside a worker that is re-importing a
    script without a main guard (it fails, and its parent goes on alone)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise exc
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"worker processes failed ({type(exc).__name__}: {first}); {doing} in this process"


# Pages per chunk while pages are still arriving: small, so that workers start early.
STREAM_CHUNK_PAGES = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


class WorkerStream(Generic[Item, Result]):
    """Work that starts while its items are still arriving: each item is handed over as it comes
    and goes to a worker process in chunks, through `work` (a module-level function of a list of
    items); results() waits for the rest. If the workers cannot start or break, the chunks not yet
    done are worked in this process. The pool of workers is the stream's own unless one is given."""

    def __init__(
        self,
        work: Callable[[list[Item]], Result],
        workers: int,
        chunk_size: int,
        doing: str,
        on_chunk: Callable[[Result], None] | None = None,
        pool: ProcessPoolExecutor | None = None,
        ahead: int | None = None,
        warm_readers: bool = False,
    ) -> None:
        self._work = work
        self._workers = workers
        self._warm_readers = warm_readers
        self._on_chunk = on_chunk
        self._chunk_size = chunk_size
        self._doing = doing
        self._pool = pool
        self._own_pool = pool is None  # shut down at exit; a pool given is its owner's
        # At most `ahead` chunks handed to workers before their results are taken: results wait
        # in memory until then, and 100,000 fingerprints done long before their turn took a GB.
        self._ahead = ahead
        self._buffer: list[Item] = []
        self._queued: deque[list[Item]] = deque()
        self._chunks: deque[tuple[list[Item], Future[Result] | None]] = deque()
        self.fallback: str | None = None

    def __enter__(self) -> WorkerStream[Item, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None and self._own_pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, item: Item) -> None:
        self._buffer.append(item)
        if len(self._buffer) >= self._chunk_size:
            self._queue()

    def _queue(self) -> None:
        chunk, self._buffer = self._buffer, []
        self._queued.append(chunk)
        self._fill()

    def _fill(self) -> None:
        """Hand queued chunks to the workers while fewer than `ahead` wait to be taken."""
        while self._queued and (self._ahead is None or len(self._chunks) < self._ahead):
            self._submit(self._queued.popleft())

    @property
    def in_flight(self) -> int:
        """Chunks handed to the workers whose results have not been taken yet."""
        return len(self._chunks)

    def results(self) -> list[Result]:
        """Every chunk's result, in the order the items were added."""
        return list(self.each_result())

    def each_result(self) -> Iterator[Result]:
        """results(), each as soon as it and those before it are done (and then let go)."""
        if self._buffer:
            self._queue()
        while self._chunks:
            items, future = self._chunks.popleft()
            self._fill()
            result = self._result(items, future)
            if self._on_chunk is not None:
                self._on_chunk(result)
            yield result

    def _submit(self, chunk: list[Item]) -> None:
        future = None
        if self.fallback is None:
            try:
                if self._pool is None:
                    self._pool = _pool(self._workers, self._warm_readers)
                future = self._pool.submit(self._work, chunk)
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self.fallback = _fallback(exc, self._doing)
        self._chunks.append((chunk, future))

    def _result(self, items: list[Item], future: Future[Result] | None) -> Result:
        if future is not None and self.fallback is None:
            try:
                return future.result()
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self.fallback = _fallback(exc, self._doing)
        return self._work(items)


class ExtractionStream(WorkerStream[Page, BatchResult]):
    """Extraction that starts while pages are being fetched (a WorkerStream of extract_articles)."""

    def __init__(
        self,
        workers: int,
        on_chunk: Callable[[BatchResult], None] | None = None,
        chunk_pages: int = STREAM_CHUNK_PAGES,
        warm_readers: bool = False,
    ) -> None:
        super().__init__(
            extract_articles, workers, chunk_pages, "extracting", on_chunk, warm_readers=warm_readers
        )


# Readings are worth the workers' start (forking them, and the fork server's loading the
# embedding model and the readers' tables once: about 0.5 s) from this many articles: a
# scheduled run's few dozen are read in the flow's process.
MIN_PARALLEL_READINGS = 512
# Articles a worker reads per task, at most: placing starts once the first task is done (64 real
# articles: about 0.3 s; a quarter of a worker's share of 1,000 took 0.4-0.6 s), and the model's
# per-call cost is spread thin enough.
READING_CHUNK = 64
# Articles read ahead of placing, at most: more than a commit chunk (flows.commit.COMMIT_CHUNK,
# 500), which placing takes whole before it places any, so that the workers read the next chunk
# while the flow's process places this one. Two workers' chunks ahead left them idle for half
# of each chunk's placing and the flow's process waiting for readings 17% of a commit (30,000
# synthetic articles). A reading in memory (fingerprint, sentences) is about 53 KB for a
# synthetic article of 150-300 words: 1,024 waiting, 54 MB.
READ_AHEAD = 1024


class ReadingOnCores:
    """A reader for commit_articles: articles (title, text, language) read (dedup.reading) on
    worker processes in chunks, handed back in order as each is done, so that placing the first
    articles overlaps reading the next. Few articles, or one worker, are read in this process; if
    the workers fail, the rest is too, and `warn` gets the one-line reason (`info` a line saying
    how many were read on workers). The workers (each loads the embedding model once) serve every
    call until close()."""

    def __init__(
        self,
        workers: int,
        info: Callable[[str], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self._workers = workers
        self._info, self._warn = info, warn
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ReadingOnCores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __call__(self, items: list[ArticleText]) -> Iterator[ArticleReading]:
        if self._workers < 2 or len(items) < MIN_PARALLEL_READINGS:
            yield from read_in_chunks(items)
            return
        if self._pool is None:
            self._pool = _pool(self._workers, warm_readers=True)
        size = _chunk_size(len(items), self._workers, 32, READING_CHUNK)
        stream = WorkerStream(
            read_many, self._workers, size, "reading", pool=self._pool, ahead=math.ceil(READ_AHEAD / size)
        )
        for item in items:
            stream.add(item)
        for chunk in stream.each_result():
            yield from chunk
        if stream.fallback:
            self.close()
            if self._warn is not None:
                self._warn(stream.fallback)
        elif self._info is not None:
            done = f"read {len(items):,} articles (fingerprints, sentences, anchors)"
            self._info(f"{done} on {self._workers} worker processes")
