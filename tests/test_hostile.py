"""Hostile input, each case against real loopback servers or real files: what a run meets on the
open web, and what a careless config or a broken page does. Every case asserts a bounded outcome
(time, memory, a one-line error naming the culprit) and that the rest of the run goes on."""

from __future__ import annotations

import contextlib
import gc
import gzip
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from wirewatch.errors import FetchError
from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import LiveIndex, commit_articles, commit_chunks
from wirewatch.flows.stages import extract_articles, fetch_pages, poll_feeds
from wirewatch.settings import AlertSettings, FeedConfig, FetchSettings
from wirewatch.store import open_store

# --- network: servers that misbehave --------------------------------------------------------


class _Hostile(BaseHTTPRequestHandler):
    """One loopback server for every misbehaving response; the path names the behaviour."""

    protocol_version = "HTTP/1.1"
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.hits.append(self.path)
        self.routes[self.path.split("?")[0]](self)

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # clients that hang up mid-response are the point here
            super().handle()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _route(path: str) -> Callable[[Callable[[BaseHTTPRequestHandler], None]], None]:
    def register(handler: Callable[[BaseHTTPRequestHandler], None]) -> None:
        _Hostile.routes[path] = handler

    return register


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


GIGABYTE_OF_ZEROS = _gzip_of_zeros(1 << 30)  # about 1 MB on the wire
BOMB_IN_A_BOMB = gzip.compress(GIGABYTE_OF_ZEROS, 9)  # a few KB on the wire, 1 GB twice inflated


def _send(handler: BaseHTTPRequestHandler, body: bytes, **headers: str) -> None:
    handler.send_response(200)
    for name, value in {"Content-Type": "application/rss+xml", **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    with contextlib.suppress(OSError):  # the client hangs up once it has seen enough
        handler.wfile.write(body)


_route("/bomb-stacked")(lambda h: _send(h, BOMB_IN_A_BOMB, Content_Encoding="gzip, gzip"))
_route("/bomb")(lambda h: _send(h, GIGABYTE_OF_ZEROS, Content_Encoding="gzip"))


@_route("/endless")
def _endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Connection", "close")
    handler.end_headers()
    block = b"<p>" + b"x" * 65536
    with contextlib.suppress(OSError):
        for _ in range(1 << 14):  # 1 GB unless the client hangs up first
            handler.wfile.write(block)


@_route("/slow-headers")
def _slow_headers(handler: BaseHTTPRequestHandler) -> None:
    with contextlib.suppress(OSError):
        for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 600:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.1)


@_route("/slow-hops")
def _slow_hops(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(0.6)
    handler.send_response(302)
    handler.send_header("Location", "/slow-hops")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@_route("/slow-body")
def _slow_body(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    with contextlib.suppress(OSError):
        for _ in range(1000):  # a byte every 0.1 s: each read succeeds, the whole never ends
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.1)


for _scheme, _target in [
    ("js", "javascript:alert(1)"),
    ("data", "data:text/html,hi"),
    ("mail", "mailto:a@b.c"),
]:
    _route(f"/to-{_scheme}")(
        lambda h, target=_target: (h.send_response(302), h.send_header("Location", target), h.end_headers())
    )
_route("/loop")(lambda h: (h.send_response(302), h.send_header("Location", "/loop"), h.end_headers()))


def _timed(call: Callable[[], object]) -> tuple[BaseException | None, float, float]:
    """What `call` raised, its wall time and the peak memory it allocated (MB, tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    started = time.monotonic()
    raised: BaseException | None = None
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned to the test, which asserts on it
        raised = exc
    took = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return raised, took, peak


PAGE_CAP = 5_000_000


@pytest.mark.parametrize(
    ("path", "message", "seconds", "megabytes"),
    [
        ("/bomb-stacked", "refused: stacked Content-Encoding 'gzip, gzip'", 2, 5),
        ("/bomb", f"larger than the {PAGE_CAP}-byte cap", 5, 3 * PAGE_CAP / 1e6),
        ("/endless", f"larger than the {PAGE_CAP}-byte cap", 5, 3 * PAGE_CAP / 1e6),
        ("/slow-headers", "timed out", 2.5, 5),
        ("/slow-body", "timed out", 2.5, 5),
        ("/slow-hops", "timed out", 2.5, 5),  # each hop in time, the chain not
        ("/to-js", "refused: invalid or non-http URL", 2, 5),
        ("/to-data", "refused: invalid or non-http URL", 2, 5),
        ("/to-mail", "refused: invalid or non-http URL", 2, 5),
        ("/loop", "more than 5 redirects", 2, 5),
    ],
)
def test_a_hostile_response_is_one_bounded_fetch_error(
    hostile: str, path: str, message: str, seconds: float, megabytes: float
) -> None:
    settings = FetchSettings(
        allow_private_networks=True, total_timeout_s=1.5, read_timeout_s=1, max_redirects=5
    )
    with Fetcher(settings) as fetcher:
        raised, took, peak = _timed(lambda: fetcher.get(hostile + path, max_bytes=PAGE_CAP))
    assert isinstance(raised, FetchError), raised
    assert message in str(raised) and "\n" not in str(raised)
    assert str(raised).startswith(hostile), str(raised)  # names the URL
    print(f"{path}: {took:.2f} s, peak {peak:.1f} MB traced")  # the figures of the closing note
    assert took < seconds, took
    assert peak < megabytes, peak


@pytest.mark.parametrize(
    "host",
    [
        "100.100.100.200",  # shared address space (RFC 6598): a cloud metadata service
        "169.254.169.254",
        "[fec0::1]",  # deprecated site-local IPv6
        "[::ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "2130706433",  # 127.0.0.1 as one number
        "0x7f000001",
        "127.1",
        "0177.0.0.1",
        "localhost",
    ],
)
def test_a_private_address_in_any_notation_is_refused_without_connecting(hostile: str, host: str) -> None:
    _Hostile.routes["/inside"] = lambda h: _send(h, b"secret")
    _Hostile.hits.clear()
    port = hostile.rsplit(":", 1)[1]
    with Fetcher(FetchSettings(total_timeout_s=3)) as fetcher:
        raised, took, _ = _timed(lambda: fetcher.get(f"http://{host}:{port}/inside", max_bytes=1000))
    assert isinstance(raised, FetchError) and "refused: " in str(raised), raised
    assert "/inside" not in _Hostile.hits and took < 2


def test_a_rebinding_name_connects_only_to_the_address_that_was_checked(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebinding DNS server answers a public address first and loopback afterwards. The
    system resolver cannot be pointed at a loopback DNS server, so its answers are given here."""
    answers = iter(["8.8.8.8"] + ["127.0.0.1"] * 10)
    real = socket.getaddrinfo

    def rebinding(host: str, port: object, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(str(port or 80))))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _Hostile.routes["/inside"] = lambda h: _send(h, b"secret")
    _Hostile.hits.clear()
    port = hostile.rsplit(":", 1)[1]
    with Fetcher(FetchSettings(connect_timeout_s=1, total_timeout_s=2)) as fetcher:
        raised, took, _ = _timed(lambda: fetcher.get(f"http://rebind.example:{port}/inside", max_bytes=1000))
    assert isinstance(raised, FetchError), raised
    assert "/inside" not in _Hostile.hits and took < 3


# --- feeds: entries without links, huge feeds -----------------------------------------------


_LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{_LAUGHS}]>'
    '<rss version="2.0"><channel><title>&lol9;</title>'
    "<item><title>Laughs &lol9;</title><description>&lol9;</description></item></channel></rss>"
).encode()
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>T</title>'
    b"<item><title>Entity &xxe;</title><description>Leak: &xxe;</description></item></channel></rss>"
)


def test_hostile_feeds_fail_alone_and_the_rest_of_the_run_is_stored(hostile: str, tmp_path: Path) -> None:
    """One run polls hostile feeds beside a good one: each hostile one ends in a one-line error
    on its feed (or a bounded, harmless parse), and the good feed's entries are stored."""
    _Hostile.routes["/laughs"] = lambda h: _send(h, BILLION_LAUGHS)
    _Hostile.routes["/xxe"] = lambda h: _send(h, EXTERNAL_ENTITY)
    _Hostile.routes["/good"] = lambda h: _send(h, _synthetic_feed(30, seed=3))
    hostile_paths = ["/bomb-stacked", "/bomb", "/slow-headers", "/slow-body", "/to-js", "/loop"]
    feeds = [FeedConfig(p, hostile + p) for p in [*hostile_paths, "/laughs", "/xxe", "/good"]]
    settings = FetchSettings(
        allow_private_networks=True, total_timeout_s=2, read_timeout_s=1, max_redirects=5
    )
    store = open_store(tmp_path / "w.db")
    with Fetcher(settings) as fetcher:
        # The models a run loads once per process (language identification, embeddings, place
        # names) are loaded first: the peak measured is what the hostile feeds cost, whichever
        # tests ran before.
        _run_once([FeedConfig("/good", hostile + "/good")], open_store(tmp_path / "warm.db"), fetcher)
        raised, took, peak = _timed(lambda: _run_once(feeds, store, fetcher))
    assert raised is None, raised
    print(f"hostile run: {took:.2f} s, peak {peak:.1f} MB traced")
    assert took < 15 and peak < 150
    states = {f.url.removeprefix(hostile): f for f in store.feeds.listing()}
    for path in hostile_paths:
        error = states[path].last_error or ""
        assert error.startswith(hostile + path) and "\n" not in error, (path, error)
    stored = store.articles.listing()
    assert store.count("articles", f"WHERE feed_url = '{hostile}/good'") == 30
    assert all("root:" not in a.text and len(a.text) < 10_000 for a in stored)  # no file, no expansion


def _run_once(feeds: list[FeedConfig], store: Any, fetcher: Fetcher) -> None:
    now = datetime.now(UTC)
    poll = poll_feeds(feeds, store, fetcher, now, force=True)
    pages, _ = fetch_pages(poll.entries, store, fetcher)
    articles, _ = extract_articles(pages)
    commit_articles(articles, store, LiveIndex(), (), AlertSettings(), now, poll.fetched)


def _synthetic_feed(stories: int, seed: int) -> bytes:
    """An RSS feed of `stories` dated entries without links, each its own story: a title and
    summary of words drawn from a made-up vocabulary of 129,600 words, so no two stories share
    more than a word or two (same seed, same entries)."""
    rng = random.Random(seed)
    syllables = [f"{a}{b}{c}" for a in "bdfgklmnprst" for b in "aeiou" for c in ("n", "r", "s", "t", "", "l")]
    vocabulary = [a + b for a in syllables for b in syllables]
    items = []
    for n in range(stories):
        words = rng.sample(vocabulary, 40)
        dated = f"<pubDate>Mon, 30 Nov 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
        items.append(
            f"<item><title>Harbour {' '.join(words[:8])}</title><guid isPermaLink='false'>s{n}</guid>"
            f"{dated}<description>{' '.join(words)}.</description></item>"
        )
    channel = "<channel><title>Wire</title>" + "".join(items) + "</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


_COMMIT_CHILD = """
import resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import LiveIndex, commit_articles
from wirewatch.flows.stages import extract_articles, fetch_pages, poll_feeds
from wirewatch.settings import AlertSettings, FeedConfig, FetchSettings, TopicConfig
from wirewatch.store import open_store

feed_url, db, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
store = open_store(db)
settings = FetchSettings(allow_private_networks=True, max_feed_bytes=50_000_000)
with Fetcher(settings) as fetcher:
    poll = poll_feeds([FeedConfig(feed_url, feed_url)], store, fetcher, datetime.now(UTC), force=True)
    pages, _ = fetch_pages(poll.entries, store, fetcher)
articles, _ = extract_articles(pages)
print("ready", len(articles), flush=True)
while not go.exists():
    time.sleep(0.01)
started = time.perf_counter()
topics = (TopicConfig("harbour", "harbour"),)
now = datetime.now(UTC)
report = commit_articles(articles, store, LiveIndex(), topics, AlertSettings(), now, poll.fetched)
took = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
counts = (report.new_articles, report.new_clusters, report.alerts_queued)
print("done", *counts, f"{took:.2f}", f"{rss:.0f}", flush=True)
"""


def _commit_child(feed_url: str, db: Path, go: Path) -> subprocess.Popen[str]:
    """A process that polls one feed into `db` and commits its entries once `go` exists."""
    command = [sys.executable, "-c", _COMMIT_CHILD, feed_url, str(db), str(go)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("ready"), (line, child.stderr.read() if child.stderr else "")
    return child


def _finished(child: subprocess.Popen[str]) -> list[str]:
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    return out.split()


def _stored(db: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_two_overlapping_runs_of_copies_place_and_alert_as_one_after_the_other(
    hostile: str, tmp_path: Path
) -> None:
    """Two runs commit the same 60 entries from two feeds at the same moment: the copies join
    the first run's stories and raise no alert of their own, as when the runs follow each other."""
    _Hostile.routes["/copies-a"] = lambda h: _send(h, _synthetic_feed(60, seed=7))
    _Hostile.routes["/copies-b"] = lambda h: _send(h, _synthetic_feed(60, seed=7))
    outcomes = []
    for overlapping in (False, True):
        db, go = tmp_path / f"{overlapping}.db", tmp_path / f"{overlapping}.go"
        open_store(db).close()
        if not overlapping:
            go.touch()
        first = _commit_child(hostile + "/copies-a", db, go)
        if not overlapping:
            _finished(first)
        second = _commit_child(hostile + "/copies-b", db, go)
        go.touch()
        reports = [_finished(first), _finished(second)] if overlapping else [_finished(second)]
        assert [int(r[1]) for r in reports][-1] == 60  # every copy stored
        clusters = _stored(db, "SELECT COUNT(*) FROM clusters WHERE merged_into IS NULL")
        outcomes.append((clusters, _stored(db, "SELECT COUNT(*) FROM alerts")))
    alone, together = outcomes
    assert together == alone == (60, 60)  # the copies started no story and raised no alert


def test_a_large_feed_is_committed_in_chunks_and_a_kill_loses_or_doubles_nothing(
    hostile: str, tmp_path: Path
) -> None:
    """2,000 entries: killed (SIGKILL) once some are stored, the run has kept whole chunks and
    not the feed's validators; the next run stores the rest, each entry once."""
    feed = _synthetic_feed(2000, seed=11)
    _Hostile.routes["/large"] = lambda h: _send(h, feed, ETag='"large-v1"')
    db, go = tmp_path / "w.db", tmp_path / "go"
    open_store(db).close()
    go.touch()
    killed = _commit_child(hostile + "/large", db, go)
    deadline = time.monotonic() + 120
    while _stored(db, "SELECT COUNT(*) FROM articles") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.kill()
    killed.communicate()
    kept = _stored(db, "SELECT COUNT(*) FROM articles")
    assert kept in [end for _, end in commit_chunks(2000)][:-1], kept  # whole transactions only
    assert _stored(db, "SELECT COUNT(*) FROM feeds WHERE etag IS NOT NULL") == 0
    again = _finished(_commit_child(hostile + "/large", db, go))
    assert int(again[1]) == 2000 - kept
    assert _stored(db, "SELECT COUNT(DISTINCT url) FROM articles") == 2000
    assert _stored(db, "SELECT COUNT(*) FROM articles") == 2000
    assert _stored(db, "SELECT COUNT(*) FROM alerts") == _stored(
        db, "SELECT COUNT(*) FROM clusters WHERE merged_into IS NULL"
    )
    assert _stored(db, "SELECT COUNT(*) FROM feeds WHERE etag = '\"large-v1\"'") == 1
    assert float(again[5]) < 1500  # peak RSS of the run, MB


# --- config, files and the command line -----------------------------------------------------


def wirewatch(*args: str, cwd: Path, timeout: float = 60, **options: Any) -> Any:
    """The real command in a child process, as a user runs it; its CompletedProcess. `options`
    go to subprocess.run (`user=` to run it as someone else)."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "from wirewatch.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, **options)


def one_error_line(done: Any) -> str:
    """The command failed with exit 1 and said so in one line, without a traceback."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def config_error(tmp_path: Path, toml: str, command: str) -> tuple[Path, str]:
    """A config of `toml` given to `wirewatch COMMAND`: its path and the one error line."""
    config = tmp_path / "wirewatch.toml"
    config.write_text(toml + "\n", encoding="utf-8")
    return config, one_error_line(wirewatch(command, "--config", str(config), cwd=tmp_path))


def test_config_in_invalid_utf8_is_one_line_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes("# Zürich desk\n[stories]\nwindow_days = 3\n".encode("latin-1"))
    line = one_error_line(wirewatch("clusters", "--config", str(config), cwd=tmp_path))
    assert line == f"Error: {config}: not UTF-8 text (byte 0xfc on line 1)"
    assert not (tmp_path / "wirewatch.db").exists()


SECONDS = "greater than 0 and at most 3600"


@pytest.mark.parametrize(
    ("toml", "key", "allowed"),
    [
        ("[fetch]\nconnect_timeout_s = nan", "fetch.connect_timeout_s", SECONDS),
        ("[fetch]\nread_timeout_s = inf", "fetch.read_timeout_s", SECONDS),
        ("[fetch]\ntotal_timeout_s = 1e300", "fetch.total_timeout_s", SECONDS),
        ("[fetch]\ntotal_timeout_s = -inf", "fetch.total_timeout_s", SECONDS),
        ("[fetch]\nmax_redirects = -1", "fetch.max_redirects", "from 0 to 20"),
        ("[fetch]\nmax_redirects = 1000000", "fetch.max_redirects", "from 0 to 20"),
        ("[fetch]\nmax_page_bytes = -5", "fetch.max_page_bytes", "from 1 to 1073741824"),
        ("[fetch]\nmax_feed_bytes = 9223372036854775807", "fetch.max_feed_bytes", "from 1 to 1073741824"),
        ("[fetch]\nconcurrency = 100000", "fetch.concurrency", "from 1 to 256"),
        ("[fetch]\nper_host_concurrency = 0", "fetch.per_host_concurrency", "from 1 to 64"),
        ("[stories]\nwindow_days = 1e300", "stories.window_days", "greater than 0 and at most 365"),
        ("[stories]\nwindow_days = nan", "stories.window_days", "greater than 0 and at most 365"),
        ("[schedule]\ninterval_minutes = inf", "schedule.interval_minutes", "at most 43200"),
        ("[alerts]\nmax_attempts = 1000000000", "alerts.max_attempts", "from 1 to 100"),
        ("[extract]\nworkers = 100000", "extract.workers", "from 0 to 256"),
        (
            "[[topics]]\nname = 'nk'\nquery = 'korea'\nmode = 'developments'\nmin_interval_minutes = -5",
            "topics[0].min_interval_minutes",
            "from 0 to 43200",
        ),
        (
            "[[feeds]]\nurl = 'https://example.com/a.xml'\n"
            "[[feeds]]\nurl = 'https://example.com/b.xml'\ninterval_minutes = 1e300",
            "feeds[1].interval_minutes",
            "greater than 0 and at most 43200",
        ),
    ],
)
def test_absurd_numbers_in_the_config_stop_with_the_key_and_its_range(
    tmp_path: Path, toml: str, key: str, allowed: str
) -> None:
    config, line = config_error(tmp_path, toml, "run")
    assert line.startswith(f"Error: {config}: {key}: must be "), line
    assert allowed in line and "(got " in line, line


def test_database_path_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    config = tmp_path / "wirewatch.toml"
    config.write_text('database = "data"\n', encoding="utf-8")
    line = one_error_line(wirewatch("clusters", "--config", str(config), cwd=tmp_path))
    assert line == f"Error: {tmp_path / 'data'}: is a folder, not a database file"
    for command in ("run", "feeds", "alerts", "ui"):
        line = one_error_line(
            wirewatch(command, "--config", str(config), "--db", str(tmp_path), cwd=tmp_path)
        )
        assert line == f"Error: {tmp_path}: is a folder, not a database file", command


def test_a_missing_database_folder_is_named_and_not_created(tmp_path: Path) -> None:
    config = tmp_path / "wirewatch.toml"
    config.write_text('database = "archive/2026/news.db"\n', encoding="utf-8")
    line = one_error_line(wirewatch("run", "--config", str(config), cwd=tmp_path))
    missing = tmp_path / "archive" / "2026"
    assert line == (
        f"Error: {missing / 'news.db'}: the database folder {missing} does not exist "
        "(create it, or choose another path)"
    )
    seed = tmp_path / "page.txt"
    seed.write_text("Title\n\n" + "A paragraph of a saved page. " * 20, encoding="utf-8")
    line = one_error_line(
        wirewatch("ingest", str(seed), "--db", str(tmp_path / "typo" / "w.db"), cwd=tmp_path)
    )
    assert f"the database folder {tmp_path / 'typo'} does not exist" in line
    assert not (tmp_path / "archive").exists() and not (tmp_path / "typo").exists()


def _drop_root_powers() -> None:
    """In the child before exec: root without the capabilities that let it write any file, so
    file modes bind it as they bind a user (CI runs as root)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_a_user() -> dict[str, Any]:
    """subprocess options under which read-only files are read-only: nothing unless this is root."""
    import os

    return {"preexec_fn": _drop_root_powers} if os.geteuid() == 0 else {}


def test_a_read_only_database_file_or_folder_is_one_line(tmp_path: Path) -> None:
    from wirewatch.store import open_store

    frozen = tmp_path / "frozen.db"
    open_store(frozen).close()
    frozen.chmod(0o444)
    line = one_error_line(wirewatch("clusters", "--db", str(frozen), cwd=tmp_path, **as_a_user()))
    assert line == f"Error: {frozen}: the database file is read-only"

    sealed = tmp_path / "sealed"
    sealed.mkdir()
    open_store(sealed / "news.db").close()
    sealed.chmod(0o555)
    try:
        for db in (sealed / "news.db", sealed / "new.db"):
            done = wirewatch("articles", "--db", str(db), cwd=tmp_path, **as_a_user())
            assert one_error_line(done) == (
                f"Error: {db}: the database folder {sealed} is read-only (SQLite writes its journal there)"
            )
    finally:
        sealed.chmod(0o755)


def test_an_opml_nested_100000_deep_imports_cleanly(tmp_path: Path) -> None:
    import time

    from wirewatch.config import load_settings

    depth = 100_000
    opml = tmp_path / "deep.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Top" xmlUrl="https://example.com/top.xml"/>'
        + '<outline text="Folder">' * depth
        + '<outline text="Deep" xmlUrl="https://example.com/deep.xml"/><outline text="Empty"/>'
        + "</outline>" * depth
        + "</body></opml>",
        encoding="utf-8",
    )
    config = tmp_path / "wirewatch.toml"
    started = time.monotonic()
    done = wirewatch("feeds", "import", str(opml), "--config", str(config), cwd=tmp_path)
    assert time.monotonic() - started < 30
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert (
        done.stdout.splitlines()[-1]
        == f"2 added, 0 already present or repeated, 1 bad entry skipped: {config}"
    )
    assert "skipped 'Empty': no xmlUrl" in done.stdout
    feeds = load_settings(str(config), env={}).feeds
    assert [(f.name, f.url) for f in feeds] == [
        ("Top", "https://example.com/top.xml"),
        ("Deep", "https://example.com/deep.xml"),
    ]


def ingest(files: list[Path], db: Path, cwd: Path) -> Any:
    """`wirewatch ingest` in a child process, without Prefect (as on a machine with no server)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(cwd / "prefect-home")
    return wirewatch("ingest", *map(str, files), "--db", str(db), cwd=cwd, env=env)


def test_ingest_refuses_devices_fifos_and_huge_files_and_stores_the_rest(
    tmp_path: Path, seed_paths: list[Path]
) -> None:
    import os
    import sqlite3
    import time

    zero, noise, fifo, huge = (tmp_path / n for n in ("zero.html", "noise.html", "fifo.html", "huge.html"))
    zero.symlink_to("/dev/zero")
    noise.symlink_to("/dev/urandom")
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would wait forever
    with huge.open("wb") as sparse:
        sparse.truncate(1 << 30)  # 1 GiB of holes: costs no disk, would cost 1 GiB of memory
    started = time.monotonic()
    done = ingest([zero, noise, fifo, huge, seed_paths[0]], tmp_path / "w.db", tmp_path)
    assert time.monotonic() - started < 30
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    errors = done.stderr.splitlines()
    assert f"error: file {zero}: not a regular file (a character device)" in errors
    assert f"error: file {noise}: not a regular file (a character device)" in errors
    assert f"error: file {fifo}: not a regular file (a FIFO)" in errors
    assert f"error: file {huge}: larger than 16,777,216 bytes: not a saved page" in errors
    assert errors[-1] == "4 of 5 files failed; 1 ingested"
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("SELECT url FROM articles").fetchall() == [(seed_paths[0].resolve().as_uri(),)]


def test_ingest_exits_1_when_every_file_failed_and_0_when_they_are_stored(
    tmp_path: Path, seed_paths: list[Path]
) -> None:
    import os

    fifo, stub = tmp_path / "fifo.html", tmp_path / "stub.txt"
    os.mkfifo(fifo)
    stub.write_text("Too short\n\nNot an article.\n", encoding="utf-8")
    missing = tmp_path / "gone.html"
    done = ingest([fifo, stub, missing], tmp_path / "w.db", tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    errors = done.stderr.splitlines()
    assert errors[-1] == "Error: all 3 files failed: nothing ingested"
    assert f"error: file {missing}: cannot read file (No such file or directory)" in errors
    alone = ingest([fifo], tmp_path / "w.db", tmp_path).stderr.splitlines()
    assert alone == [
        f"error: file {fifo}: not a regular file (a FIFO)",
        "Error: the file failed: nothing ingested",
    ]
    # Ingesting what is already stored adds nothing and fails nothing.
    assert ingest(seed_paths[:2], tmp_path / "w.db", tmp_path).returncode == 0
    again = ingest(seed_paths[:2], tmp_path / "w.db", tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr


def _runs(db: Path) -> list[tuple[int, str, str, bool]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone() is None:
            return []  # the file exists but the run is still creating the schema
        rows = conn.execute("SELECT id, kind, status, finished IS NOT NULL FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(int(i), str(k), str(s), bool(f)) for i, k, s, f in rows]


def test_a_killed_run_is_marked_interrupted_by_the_next_and_a_live_one_is_left_running(
    tmp_path: Path, seed_paths: list[Path], prefect_server: None
) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "w.db"
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = tmp_path / "wirewatch.toml"
        config.write_text(
            f'[[feeds]]\nurl = "http://127.0.0.1:{silent.getsockname()[1]}/feed.xml"\n\n'
            "[fetch]\nallow_private_networks = true\nconnect_timeout_s = 600\nread_timeout_s = 600\n"
            "total_timeout_s = 600\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_API_URL=str(PREFECT_API_URL.value()))
        command = [sys.executable, "-c", "from wirewatch.cli import main; main()", "run"]
        run = subprocess.Popen(
            [*command, "--config", str(config), "--db", str(db)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not (db.exists() and _runs(db)) and time.monotonic() < deadline and run.poll() is None:
                time.sleep(0.2)
            assert _runs(db) == [(1, "run", "running", False)]
            # An overlapping run meanwhile: the first is alive, and stays 'running'.
            assert ingest(seed_paths[:1], db, tmp_path).returncode == 0
            assert _runs(db) == [(1, "run", "running", False), (2, "ingest", "completed", True)]
        finally:
            run.kill()  # SIGKILL: no handler runs, nothing is cleaned up
            run.wait(timeout=30)
    assert ingest(seed_paths[1:2], db, tmp_path).returncode == 0
    assert _runs(db) == [
        (1, "run", "interrupted", True),
        (2, "ingest", "completed", True),
        (3, "ingest", "completed", True),
    ]
    assert list(tmp_path.glob("w.db-run-*.lock")) == []


# --- the review page ---------------------------------------------------------------------------

# Browsers drop tabs and newlines from a URL and read "\" as "/": each of these would leave the
# site (or split the header) if followed.
OFF_SITE_NEXT = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "/\\/evil.example/",
    "\t//evil.example/",
    " /evil.example/",
    "/ /evil.example/",
    "/\x00/evil.example/",
    "/\x0b/evil.example/",
    "/\x7f/evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "",
]


def _review_app(tmp_path: Path) -> tuple[Any, int, str]:
    """The review app on a demo store of its own; a story's id and the form's token."""
    from tests.test_web import NK_OIL, TOPICS, build_demo_store, call, cluster_id_of, token_of
    from wirewatch.settings import Settings
    from wirewatch.web import ReviewApp

    db = build_demo_store(tmp_path / "review.db")
    app = ReviewApp(Settings(database=str(db), topics=TOPICS), host="127.0.0.1", port=8000)
    cluster = cluster_id_of(call(app, "/"), NK_OIL)
    return app, cluster, token_of(call(app, f"/clusters/{cluster}"))


def test_review_page_follows_only_a_plain_local_next_path(tmp_path: Path) -> None:
    from tests.test_web import call

    app, cluster, token = _review_app(tmp_path)
    for target in OFF_SITE_NEXT:
        done = call(app, f"/clusters/{cluster}/state", form={"action": "read", "csrf": token, "next": target})
        assert done.status == 303, repr(target)
        assert done.headers["location"] == f"/clusters/{cluster}", repr(target)
    for target in ("/?topic=nk-sanctions&since=7d", "/clusters/1", "/feeds"):
        done = call(app, f"/clusters/{cluster}/state", form={"action": "read", "csrf": token, "next": target})
        assert done.headers["location"] == target


def test_review_page_next_with_crlf_injects_no_header_over_real_http(tmp_path: Path) -> None:
    import http.client
    from urllib.parse import urlencode, urlsplit

    from tests.test_web import TOPICS, serve_review
    from wirewatch.settings import Settings

    app, cluster, token = _review_app(tmp_path)  # the store and token; served by a real server below
    with serve_review(Settings(database=app.settings.database, topics=TOPICS)) as base:
        address = urlsplit(base)
        page = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        page.request("GET", f"/clusters/{cluster}")
        body = page.getresponse().read().decode()
        token = body.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        for target in ("/\r\nSet-Cookie: injected=1", "/x\nX-Injected: 1", "/\r\n\r\n<h1>injected</h1>"):
            form = urlencode({"action": "read", "csrf": token, "next": target})
            page.request(
                "POST",
                f"/clusters/{cluster}/state",
                body=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            answer = page.getresponse()
            answer.read()
            headers = {name.lower() for name, _ in answer.getheaders()}
            assert answer.status == 303, repr(target)
            assert answer.getheader("Location") == f"/clusters/{cluster}", repr(target)
            assert "set-cookie" not in headers and "x-injected" not in headers, repr(target)
        page.close()


# --- secrets --------------------------------------------------------------------------------

# Letter-only secrets: the old mask let any run without digits, shorter than 20, through.
SECRETS = {
    "topic": "mysecrettopic",
    "password": "lettersonlypassword",
    "path": "lettersonlypath",
    "token": "lettersonlytoken",
    "hook": "lettersonlyhook",
    "apikey": "lettersonlykey",
    "sig": "lettersonlysig",
    "shared": "lettersonlysharedsecret",
}


def _channels_config(port: int) -> str:
    s = SECRETS
    return f"""
[[topics]]
name = "nk"
query = '"north korea" AND sanction*'

[alerts]
urls = [
    "ntfy://127.0.0.1:{port}/{s["topic"]}",
    "json://me:{s["password"]}@127.0.0.1:{port}/{s["path"]}?token={s["token"]}",
]

[[alerts.webhooks]]
url = "http://127.0.0.1:{port}/{s["hook"]}?apikey={s["apikey"]}&sig={s["sig"]}"
secret = "{s["shared"]}"
"""


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS.values() if secret in text]


def test_channel_secrets_stay_out_of_output_the_database_and_logs(
    seed_paths: list[Path], tmp_path: Path, httpserver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import sqlite3

    from click.testing import CliRunner

    from wirewatch.cli import main

    httpserver.expect_request("", method="POST").respond_with_data("down", status=500)
    config = tmp_path / "wirewatch.toml"
    config.write_text(_channels_config(httpserver.port), encoding="utf-8")
    db = tmp_path / "secrets.db"
    common = ["--config", str(config), "--db", str(db)]
    caplog.set_level(logging.DEBUG)  # Apprise, httpx and urllib3 log the URLs they post to
    outputs = []
    for args in (
        ["ingest", *map(str, seed_paths), *common],
        ["alerts", "--retry", *common],
        ["alerts", "--json", *common],
        ["alerts", *common],
    ):
        done = CliRunner().invoke(main, args)
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        outputs.append(done.stdout + done.stderr)
    assert len(httpserver.log) >= 6  # every channel was really tried, twice
    retried = outputs[1]
    assert f"ntfy://127.0.0.1:{httpserver.port}/***: delivery failed" in retried
    assert f"http://127.0.0.1:{httpserver.port}/***?apikey=***&sig=***: HTTP 500" in retried
    assert all(_leaks(out) == [] for out in outputs), outputs
    with sqlite3.connect(db) as connection:
        errors = [row[0] for row in connection.execute("SELECT last_error FROM alerts")]
        dump = "\n".join(connection.iterdump())
    assert errors and all(f"127.0.0.1:{httpserver.port}" in e for e in errors)
    assert _leaks(dump) == []
    # The loopback server's own access log (werkzeug) is the receiver's, not wirewatch's.
    messages = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]
    assert any(r.name == "apprise" for r in caplog.records)
    assert [m for m in messages if _leaks(m)] == []


@pytest.mark.parametrize(
    ("toml", "key", "shown"),
    [
        (
            '[alerts]\nurls = ["ntfys:/ntfy.sh/mysecrettopic"]',
            "alerts.urls[0]",
            "malformed Apprise URL 'ntfys:***'",
        ),
        (
            '[[alerts.webhooks]]\nurl = "htps://hooks.example.com/services/lettersonlyhook?token=lettersonlytoken"',
            "alerts.webhooks[0].url",
            "malformed URL 'htps://hooks.example.com/***?token=***'",
        ),
        (
            '[fetch]\nproxy = "socks://me:lettersonlypassword@proxy.example:1080"',
            "fetch.proxy",
            "malformed URL 'socks://***@proxy.example:1080'",
        ),
    ],
)
def test_a_malformed_channel_url_in_the_config_is_named_by_key_and_shown_masked(
    tmp_path: Path, toml: str, key: str, shown: str
) -> None:
    config, line = config_error(tmp_path, toml, "alerts")
    assert line.startswith(f"Error: {config}: {key}: {shown} (need "), line
    assert _leaks(line) == []


def test_flow_runs_store_paths_not_the_channels_secrets(
    seed_paths: list[Path], tmp_path: Path, httpserver: Any, prefect_server: None
) -> None:
    """A flow run's parameters are kept in the Prefect server's database and shown in its UI:
    they name the config and the database, never what the config holds."""
    import asyncio
    import json
    import os

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    httpserver.expect_request("", method="POST").respond_with_data("ok")
    config = tmp_path / "wirewatch.toml"
    config.write_text(_channels_config(httpserver.port), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=str(PREFECT_API_URL.value()), PREFECT_HOME=str(tmp_path / "prefect-home"))
    for args in (["ingest", *map(str, seed_paths[:1])], ["alerts", "--retry"]):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "wirewatch.cli",
                *args,
                "--config",
                str(config),
                "--db",
                str(tmp_path / "w.db"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    async def parameters() -> list[dict[str, Any]]:
        async with get_client() as client:
            return [run.parameters for run in await client.read_flow_runs()]

    stored = [p for p in asyncio.run(parameters()) if p.get("config") == str(config)]
    assert len(stored) == 2  # the ingest and the delivery ran as flows
    assert not _leaks(json.dumps(stored)), stored
