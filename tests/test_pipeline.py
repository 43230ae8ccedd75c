"""The whole pipeline as users run it: the CLI, a real Prefect flow run, a loopback server, a
SQLite file reopened afterwards."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tests.conftest import demo_config_text, write_config
from tests.test_extractors import FURNITURE_LINES
from wirewatch.cli import main

pytestmark = pytest.mark.usefixtures("prefect_server")
UNREACHABLE = "http://127.0.0.1:9/closed.xml"  # the discard port: nothing listens there


def _invoke(args: list[str]) -> Result:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("articles", "fingerprints", "clusters", "topic_matches", "alerts", "feeds")
        }


def test_run_on_demo_feeds_is_complete_and_idempotent(demo_proxy: str, tmp_path: Path) -> None:
    extra = f'[[feeds]]\nname = "Gone"\nurl = "{UNREACHABLE}"\n\n'
    config = write_config(tmp_path, demo_config_text(demo_proxy, extra_feeds=extra))
    db = tmp_path / "w.db"
    first = json.loads(_invoke(["run", "--config", str(config), "--db", str(db), "--json"]).stdout)
    assert first["feeds_fetched"] == 4 and first["feeds_failed"] == 1
    assert first["new_articles"] == 21
    assert first["clusters"] == 17  # 4 versions of one wire story and 2 of another join up
    assert first["topic_matches"] == 8
    assert first["alerts_queued"] == 4  # nk oil story, two nk tanker seizures, port strike
    assert len(first["errors"]) == 1 and first["errors"][0].startswith(f"feed {UNREACHABLE}: ")
    stored = _counts(db)
    assert stored["articles"] == stored["fingerprints"] == 21

    second = json.loads(_invoke(["run", "--config", str(config), "--db", str(db), "--json"]).stdout)
    assert second["new_articles"] == 0 and second["alerts_queued"] == 0
    assert _counts(db) == stored
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT kind, status FROM runs ORDER BY id").fetchall()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The unreachable feed is backing off on the second run, so that run has nothing to report.
    assert runs == [("run", "completed_with_errors"), ("run", "completed")]

    clusters = json.loads(_invoke(["clusters", "--db", str(db), "--config", str(config), "--json"]).stdout)
    assert len(clusters) == 17
    assert [c["last_seen"] for c in clusters] == sorted((c["last_seen"] for c in clusters), reverse=True)
    big = max(clusters, key=lambda c: len(c["articles"]))
    assert len(big["articles"]) == 4 and big["sources"] == 4
    assert set(big) >= {"id", "headline", "first_seen", "last_seen", "articles"}
    assert set(big["articles"][0]) >= {"id", "url", "title", "source", "published"}
    nk = json.loads(
        _invoke(
            ["clusters", "--config", str(config), "--db", str(db), "--topic", "nk-sanctions", "--json"]
        ).stdout
    )
    # The oil-cap story and the two tanker seizures: three events, three stories.
    assert len(nk) == 3

    articles = json.loads(_invoke(["articles", "--config", str(config), "--db", str(db), "--json"]).stdout)
    assert len(articles) == 21
    assert set(articles[0]) >= {"id", "url", "title", "source", "published", "cluster_id", "text"}
    assert all(a["url"].startswith("http://demo.wirewatch.invalid/pages/") for a in articles)

    alerts = json.loads(_invoke(["alerts", "--config", str(config), "--db", str(db), "--json"]).stdout)
    assert len(alerts) == 4
    assert set(alerts[0]) >= {"id", "topic", "cluster_id", "status", "created", "delivered"}
    assert {a["status"] for a in alerts} == {"recorded"}  # no channel configured

    feeds = json.loads(_invoke(["feeds", "--config", str(config), "--db", str(db), "--json"]).stdout)
    gone = next(f for f in feeds if f["url"] == UNREACHABLE)
    assert gone["consecutive_failures"] == 1 and gone["last_error"]


def test_run_delivers_alerts_to_a_webhook_once(
    demo_proxy: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    hook = f'"json://127.0.0.1:{httpserver.port}/hook"'
    config = write_config(tmp_path, demo_config_text(demo_proxy, alert_urls=hook))
    db = tmp_path / "w.db"
    first = json.loads(_invoke(["run", "--config", str(config), "--db", str(db), "--json"]).stdout)
    second = json.loads(_invoke(["run", "--config", str(config), "--db", str(db), "--json"]).stdout)
    assert (first["alerts_sent"], second["alerts_sent"]) == (4, 0)
    titles = sorted(json.loads(r.get_data())["title"] for r, _ in httpserver.log)
    assert len(titles) == 4
    assert sum("nk-sanctions" in t for t in titles) == 3 and sum("port-strike" in t for t in titles) == 1


def test_bundled_demo_runs_with_no_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)
    result = _invoke(["run"])
    assert "new articles   21" in result.stdout
    assert (tmp_path / "wirewatch.db").exists()
    assert "new articles   0" in _invoke(["run"]).stdout


def test_ingest_saved_pages(seed_paths: list[Path], tmp_path: Path) -> None:
    junk = tmp_path / "menu.txt"
    junk.write_text("Home\nSections\nLogin\n")
    db = tmp_path / "w.db"
    config = write_config(tmp_path, '[[topics]]\nname = "nk"\nquery = \'"north korea" AND sanction*\'\n')
    result = _invoke(["ingest", *map(str, seed_paths), str(junk), "--config", str(config), "--db", str(db)])
    assert "new articles   5" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: extract {junk.resolve().as_uri()}: too little article text (0 words, need 40)"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, source, text FROM articles ORDER BY url").fetchall()
        alerts = conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    assert [r[0] for r in rows] == sorted(p.resolve().as_uri() for p in seed_paths)
    assert [r[1] for r in rows] == sorted(p.name for p in seed_paths)
    assert alerts == 2
    for _, _, text in rows:
        lines = {line.strip() for line in text.splitlines()}
        assert not lines & set(FURNITURE_LINES)
    again = _invoke(
        ["ingest", *map(str, seed_paths), "--config", str(config), "--db", str(db), "--source", "Wire"]
    )
    assert "new articles   0" in again.stdout


def test_extract_prints_one_json_object_per_page(seed_paths: list[Path]) -> None:
    result = _invoke(["extract", *map(str, seed_paths), "--json"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5
    assert all(set(r) >= {"url", "title", "author", "date", "sitename", "text"} for r in records)
    wrapped = next(r for r in records if "004_" in r["url"])
    assert wrapped["author"] == "Michelle Nichols" and wrapped["date"].startswith("2024-06-28")


@pytest.mark.parametrize(
    ("mode", "kinds"),
    [("new_story", ["new_story", "new_story"]), ("developments", ["development", "new_story", "new_story"])],
)
def test_run_killed_between_storing_and_delivering_loses_and_doubles_nothing(
    seed_paths: list[Path], tmp_path: Path, httpserver: HTTPServer, mode: str, kinds: list[str]
) -> None:
    """Killed while delivering; the next delivery sends each alert once, development alerts too
    (the seeds raise one: a later report of the June meeting adds to the story)."""
    from prefect.settings import PREFECT_API_URL

    topic = (
        f'[[topics]]\nname = "nk"\nquery = \'"north korea" AND sanction*\'\nmode = "{mode}"\n'
        "min_interval_minutes = 0\n\n"
    )
    db = tmp_path / "w.db"
    # An endpoint that accepts and never answers: when it is reached, everything is stored and
    # the run is delivering. That is where the run is killed.
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen()
        stuck.settimeout(120)
        config = write_config(
            tmp_path, topic + f'[alerts]\nurls = ["json://127.0.0.1:{stuck.getsockname()[1]}/h"]\n'
        )
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wirewatch.cli",
                "ingest",
                *map(str, seed_paths),
                "--config",
                str(config),
                "--db",
                str(db),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        connection, _ = stuck.accept()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        connection.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5
        assert conn.execute("SELECT status FROM alerts").fetchall() == [("pending",)] * len(kinds)

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    back = write_config(
        tmp_path, topic + f'[alerts]\nurls = ["json://127.0.0.1:{httpserver.port}/hook"]\n', name="back.toml"
    )
    again = _invoke(["ingest", *map(str, seed_paths), "--config", str(back), "--db", str(db)])
    assert "new articles   0" in again.stdout
    _invoke(["alerts", "--retry", "--config", str(back), "--db", str(db)])
    _invoke(["alerts", "--retry", "--config", str(back), "--db", str(db)])  # nothing left to send
    assert len(httpserver.log) == len(kinds)
    statuses = json.loads(_invoke(["alerts", "--config", str(back), "--db", str(db), "--json"]).stdout)
    assert [a["status"] for a in statuses] == ["sent"] * len(kinds)
    assert sorted(a["kind"] for a in statuses) == kinds
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    developments = [b for b in bodies if "new in" in b["title"]]
    assert len(developments) == kinds.count("development")
    assert all("New since the last alert:" in b["message"] for b in developments)


def _process_extractions(task: str = "extract-on-processes") -> int:
    """Task runs of the extract stage on worker processes, as the Prefect server recorded them."""
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    ours = TaskRunFilter(name=TaskRunFilterName(like_=task))
    with get_client(sync_client=True) as client:
        return len(client.read_task_runs(task_run_filter=ours))


def test_extraction_runs_on_worker_processes_and_stores_what_one_process_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Three batches of pages: with two workers they are extracted on processes (threads would
    share one core), and the store ends up the same as with one."""
    pages = tmp_path / "pages"
    pages.mkdir()
    demo = sorted(Path(__file__).resolve().parents[1].joinpath("wirewatch", "demo", "pages").glob("*/*.html"))
    for copy in range(3):
        for page in demo:
            (pages / f"{copy}-{page.name}").write_bytes(page.read_bytes())
    paths = sorted(str(p) for p in pages.iterdir())
    stored = {}
    for workers in (1, 2):
        config = write_config(tmp_path, f"[extract]\nworkers = {workers}\n", f"w{workers}.toml")
        db = tmp_path / f"w{workers}.db"
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="wirewatch.flows.steps"):
            _invoke(["ingest", *paths, "--config", str(config), "--db", str(db)])
        on_processes = [r for r in caplog.records if "worker processes" in r.getMessage()]
        assert len(on_processes) == (workers == 2)
        with sqlite3.connect(db) as conn:
            stored[workers] = conn.execute(
                "SELECT url, title, text, cluster_id FROM articles ORDER BY id"
            ).fetchall()
    assert len(stored[1]) == len(paths) and stored[2] == stored[1]


@pytest.mark.parametrize(
    "extract",
    [
        "results, why = extract_on_cores(pages, 2)",
        "with ExtractionStream(2) as stream:\n"
        "    for page in pages:\n"
        "        stream.add(page)\n"
        "    results, why = stream.results(), stream.fallback",
    ],
    ids=["pages-known", "pages-arriving"],
)
def test_extraction_without_worker_processes_goes_on_in_one(tmp_path: Path, extract: str) -> None:
    """A script without a main guard cannot start worker processes: the pages are still extracted,
    and the reason is one line."""
    script = tmp_path / "unguarded.py"
    page = (
        Path(__file__).resolve().parents[1] / "wirewatch" / "demo" / "pages" / "harbor" / "port-strike.html"
    )
    script.write_text(
        "from pathlib import Path\n"
        "from wirewatch.flows.extract_pool import ExtractionStream, extract_on_cores\n"
        "from wirewatch.records import Page\n"
        f"html = Path({str(page)!r}).read_text()\n"
        "pages = [Page(f'http://x/{n}', 's', html, 'text/html') for n in range(20)]\n"
        f"{extract}\n"
        "print(sum(len(a) for a, _ in results), why)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done  # the script ran once, in this process only
    assert lines[0].startswith("20 worker processes failed (BrokenProcessPool"), done
    assert lines[0].endswith("; extracting in this process"), done


def test_a_run_extracts_pages_on_worker_processes_as_they_arrive(tmp_path: Path) -> None:
    """A poll bringing 63 pages: fetched and extracted at once on two workers, the store ends up
    as with one."""
    from benchmarks.pipeline_cores import build_site
    from wirewatch.demo_server import serve_demo

    root = tmp_path / "site"
    pages = build_site(root, copies=3)
    stored = {}
    with serve_demo(root) as proxy:
        for workers in (1, 2):
            config = write_config(
                tmp_path, demo_config_text(proxy) + f"\n[extract]\nworkers = {workers}\n", f"w{workers}.toml"
            )
            db = tmp_path / f"w{workers}.db"
            before = _process_extractions("fetch-and-extract")
            _invoke(["run", "--config", str(config), "--db", str(db)])
            assert _process_extractions("fetch-and-extract") - before == (workers == 2)
            with sqlite3.connect(db) as conn:
                stored[workers] = conn.execute(
                    "SELECT url, title, text, from_feed_only FROM articles ORDER BY url"
                ).fetchall()
    assert len(stored[1]) == len(pages) and not any(row[3] for row in stored[1])
    assert stored[2] == stored[1]


def test_many_articles_are_read_on_worker_processes_as_in_one() -> None:
    """A large batch's readings (fingerprints, sentences, anchors) come from worker processes, in
    order, equal to one process's."""
    from wirewatch.dedup.reading import read_in_chunks
    from wirewatch.flows.extract_pool import MIN_PARALLEL_READINGS, ReadingOnCores

    items = [
        (
            f"Port strike {n} enters day {n % 9}",
            f"Dockers at terminal {n} in the Netherlands walked out on March {n % 28 + 1}. " * (n % 4),
            "en",
        )
        for n in range(MIN_PARALLEL_READINGS + 40)
    ]
    said: list[str] = []
    with ReadingOnCores(2, said.append, said.append) as on_workers:
        on_cores = list(on_workers(items))
        again = list(on_workers(items[:MIN_PARALLEL_READINGS]))  # the same workers, again
    here = list(read_in_chunks(items))
    assert said == [
        f"read {n:,} articles (fingerprints, sentences, anchors) on 2 worker processes"
        for n in (len(items), MIN_PARALLEL_READINGS)
    ]
    assert [a.fingerprint.words for a in again] == [b.fingerprint.words for b in here[:MIN_PARALLEL_READINGS]]
    assert len(on_cores) == len(here)
    for reading, ours in zip(on_cores, here, strict=True):
        a, b = reading.fingerprint, ours.fingerprint
        assert a.words == b.words
        assert np.array_equal(a.shingle_hash.hashvalues, b.shingle_hash.hashvalues)
        assert np.array_equal(a.salient_hashes, b.salient_hashes)
        assert np.array_equal(a.embedding, b.embedding)
        assert (reading.headline, reading.body, reading.anchors) == (ours.headline, ours.body, ours.anchors)
    assert {"p:NL", "d:03-06"} <= on_cores[5].anchors and len(on_cores[3].body) == 3
    few: list[str] = []
    with ReadingOnCores(2, few.append) as on_workers:
        assert len(list(on_workers(items[:10]))) == 10
    assert few == []  # a scheduled run's few articles stay in the flow's process


def test_workers_yield_the_cores_to_the_flows_process() -> None:
    """The flow's process alone places articles: its workers run at a lower priority, so it is
    not left waiting its turn behind them on a machine whose every core they keep busy."""
    import os

    from wirewatch.flows.extract_pool import WORKER_NICENESS, _pool

    pool = _pool(2)
    try:
        niceness = {pool.submit(os.nice, 0).result(timeout=120) for _ in range(4)}
    finally:
        pool.shutdown()
    assert niceness == {min(19, os.nice(0) + WORKER_NICENESS)}  # 19: the lowest priority there is


_WORKERS_WARM = """
from wirewatch.flows.extract_pool import _pool

def loaded():
    from wirewatch.dedup import embedding
    return embedding._model is not None

if __name__ == "__main__":
    pool = _pool(2, warm_readers={warm})
    print(pool.submit(loaded).result(timeout=120))
    pool.shutdown()
"""


@pytest.mark.parametrize("warm", [True, False])
def test_reading_workers_start_with_the_embedding_model_loaded(tmp_path: Path, warm: bool) -> None:
    """A large run's workers are forked with the model their fork server loaded once (placing
    does not wait for each to load it); a smaller run's server, whose start its fetching waits
    for, does not load it. In a fresh process: the fork server is one a process."""
    script = tmp_path / "warm.py"
    script.write_text(_WORKERS_WARM.format(warm=warm), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(warm)


def test_readings_on_workers_are_the_same_and_run_a_bounded_number_ahead() -> None:
    """A commit of many articles reads them on worker processes: the same fingerprints as in the
    flow's process, and never more than `ahead` chunks done before placing takes them (100,000
    fingerprints finished long before their turn took a GB of memory). Readers run more than a
    commit chunk ahead, so that the next chunk is read while one is placed."""
    from wirewatch.dedup.fingerprint import fingerprint_in_chunks, fingerprint_many
    from wirewatch.flows.commit import COMMIT_CHUNK
    from wirewatch.flows.extract_pool import READ_AHEAD, ReadingOnCores, WorkerStream

    assert COMMIT_CHUNK < READ_AHEAD <= 4 * COMMIT_CHUNK

    pairs = [
        (f"Harbour report {n}", f"Pilots at berth {n} counted {n * 7} vessels. " * 12) for n in range(1200)
    ]
    with ReadingOnCores(2) as on_cores:
        theirs = [r.fingerprint for r in on_cores([(title, text, "en") for title, text in pairs])]
    ours = list(fingerprint_in_chunks(pairs))
    assert [f.word_hashes.tolist() for f in theirs] == [f.word_hashes.tolist() for f in ours]
    assert [f.shingle_hash.hashvalues.tolist() for f in theirs] == [
        f.shingle_hash.hashvalues.tolist() for f in ours
    ]
    with WorkerStream(fingerprint_many, 2, 50, "fingerprinting", ahead=4) as stream:
        for item in pairs:
            stream.add(item)
        assert stream.in_flight == 4  # 24 chunks added, 4 handed over
        taken = 0
        for chunk in stream.each_result():
            assert stream.in_flight <= 4
            taken += len(chunk)
    assert taken == len(pairs)


def test_a_commit_starts_with_small_transactions_and_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """A commit's transactions take its articles once each, in order: the first small, so that
    placing starts once a few are read, each then twice the one before, up to COMMIT_CHUNK.
    Python's cycle collector, deferred while placing, is as it was afterwards, even when the
    commit fails."""
    import gc
    from datetime import UTC, datetime
    from itertools import pairwise

    from wirewatch.flows.commit import (
        COMMIT_CHUNK,
        FIRST_COMMIT_CHUNK,
        commit_articles,
        commit_chunks,
        load_index,
    )
    from wirewatch.records import NewArticle
    from wirewatch.settings import AlertSettings
    from wirewatch.store import open_store

    for count in (0, 1, FIRST_COMMIT_CHUNK + 1, 3333):
        chunks = commit_chunks(count)
        assert [i for start, end in chunks for i in range(start, end)] == list(range(count))
        sizes = [end - start for start, end in chunks]
        assert sizes[0] == min(count, FIRST_COMMIT_CHUNK) and max(sizes) <= COMMIT_CHUNK
        assert all(b in (min(2 * a, COMMIT_CHUNK), count - sum(sizes[:-1])) for a, b in pairwise(sizes))
    assert len(commit_chunks(3333)) == 9  # 100, 200, 400, 500 x 5, 133

    before = gc.get_threshold()
    store = open_store(tmp_path / "w.db")
    index = load_index(store)
    store.close()  # a closed store: the commit fails on its first statement
    now = datetime(2026, 11, 30, tzinfo=UTC)
    article = NewArticle("https://example.org/a", "example.org", "A title", "Some text.", now)
    with pytest.raises(sqlite3.ProgrammingError):
        commit_articles([article], store, index, (), AlertSettings(), now)
    assert gc.get_threshold() == before
