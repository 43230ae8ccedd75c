"""Hostile input, each case against real loopback servers or real files: what a run meets on the
open web, and what a careless config or a broken page does. Every case asserts a bounded outcome
(time, memory, a one-line error naming the culprit) and that the rest of the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# --- network: servers that misbehave --------------------------------------------------------

# --- feeds: entries without links, huge feeds -----------------------------------------------

# --- config, files and the command line -----------------------------------------------------


def wirewatch(*args: str, cwd: Path, timeout: float = 60) -> Any:
    """The real command in a child process, as a user runs it; its CompletedProcess."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "from wirewatch.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_error_line(done: Any) -> str:
    """The command failed with exit 1 and said so in one line, without a traceback."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


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
    config = tmp_path / "wirewatch.toml"
    config.write_text(toml + "\n", encoding="utf-8")
    line = one_error_line(wirewatch("run", "--config", str(config), cwd=tmp_path))
    assert line.startswith(f"Error: {config}: {key}: must be "), line
    assert allowed in line and "(got " in line, line


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
