"""Hostile input, each case against real loopback servers or real files: what a run meets on the
open web, and what a careless config or a broken page does. Every case asserts a bounded outcome
(time, memory, a one-line error naming the culprit) and that the rest of the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# --- network: servers that misbehave --------------------------------------------------------

# --- feeds: entries without links, huge feeds -----------------------------------------------

# --- config, files and the command line -----------------------------------------------------

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
