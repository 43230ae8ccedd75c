"""Extraction on every core. trafilatura holds the GIL, so the task runner's threads share one
core (measured: 2 threads 1.0x one); worker processes do not. The store stays single-writer: the
workers only turn pages into articles and hand them back in order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from flows.stages import StageReport, extract_articles
from wirewatch.records import NewArticle, Page

# Workers are forked from a clean server process (multiprocessing's forkserver), not from the
# flow's process with its threads. It imports once what every worker needs: the extractor
# (trafilatura, lxml: about a second) and Prefect, which a worker would otherwise import again
# as it re-imports the main module (`python -m prefect.engine` under `wirewatch serve`): 2 s
# per worker per run, measured. The main module itself is not preloaded: the server would run
# a script without a main guard, flow and all.
_PRELOAD = ["flows.stages", "prefect"]

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


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def extract_on_cores(
    pages: Sequence[Page], workers: int, on_chunk: Callable[[BatchResult], None] | None = None
) -> tuple[list[BatchResult], str | None]:
    """Pages known in advance on worker processes (an ExtractionStream fed at once), in chunks
    of about four per worker (at most CHUNK_PAGES) so that no worker idles while another finishes
    a long one. The second value says why workers could not be used, if so: a program that starts
    wirewatch's flow from a script without an `if __name__ == "__main__":` guard cannot start
    them (Python re-imports the script in each), and its run goes on, on one core."""
    size = max(1, min(CHUNK_PAGES, math.ceil(len(pages) / (workers * 4))))
    with ExtractionStream(workers, on_chunk, chunk_pages=size) as stream:
        for page in pages:
            stream.add(page)
        return stream.results(), stream.fallback


def _fallback(exc: BaseException) -> str:
    """Why the workers failed, in one line; re-raised inside a worker that is re-importing a
    script without a main guard (it fails, and its parent goes on alone)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise exc
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"worker processes failed ({type(exc).__name__}: {first}); extracting in this process"


# Pages per chunk while pages are still arriving: small, so that workers start early.
STREAM_CHUNK_PAGES = 8


class ExtractionStream:
    """Extraction that starts while pages are being fetched: each page is handed over as it
    arrives and goes to a worker process in chunks; results() waits for the rest. If the workers
    cannot start or break, the pages not yet extracted are extracted in this process."""

    def __init__(
        self,
        workers: int,
        on_chunk: Callable[[BatchResult], None] | None = None,
        chunk_pages: int = STREAM_CHUNK_PAGES,
    ) -> None:
        self._workers = workers
        self._on_chunk = on_chunk
        self._chunk_pages = chunk_pages
        self._pool: ProcessPoolExecutor | None = None
        self._buffer: list[Page] = []
        self._chunks: list[tuple[list[Page], Future[BatchResult] | None]] = []
        self.fallback: str | None = None

    def __enter__(self) -> ExtractionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, page: Page) -> None:
        self._buffer.append(page)
        if len(self._buffer) >= self._chunk_pages:
            self._submit()

    def results(self) -> list[BatchResult]:
        """Every chunk's articles and report, in the order the pages were added."""
        if self._buffer:
            self._submit()
        out: list[BatchResult] = []
        for pages, future in self._chunks:
            result = self._result(pages, future)
            if self._on_chunk is not None:
                self._on_chunk(result)
            out.append(result)
        return out

    def _submit(self) -> None:
        chunk, self._buffer = self._buffer, []
        future = None
        if self.fallback is None:
            try:
                if self._pool is None:
                    self._pool = _pool(self._workers)
                future = self._pool.submit(extract_articles, chunk)
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self.fallback = _fallback(exc)
        self._chunks.append((chunk, future))

    def _result(self, pages: list[Page], future: Future[BatchResult] | None) -> BatchResult:
        if future is not None and self.fallback is None:
            try:
                return future.result()
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                self.fallback = _fallback(exc)
        return extract_articles(pages)
