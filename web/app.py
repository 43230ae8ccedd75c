"""The review page as a WSGI app: stories newest first, a story's articles and timeline, feed
health, a topic's Atom feed, and the two things a reader changes (read, muted).

Each request opens the store and closes it again: SQLite connections do not cross threads, and
a run writing at the same time is simply seen by the next page load.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from wirewatch.dedup.summary import story_summary
from wirewatch.errors import QueryError
from wirewatch.exports.atom import render_atom
from wirewatch.fetch.urls import is_openable
from wirewatch.records import SearchHit
from wirewatch.settings import Settings
from wirewatch.store import Store, open_store
from wirewatch.timeutil import parse_iso, utc_now
from wirewatch.web.http import STATUS_LINES, FormTooLarge, Request, Response, parse_request
from wirewatch.web.security import RequestGuard
from wirewatch.web.timeline import build_timeline

log = logging.getLogger(__name__)

SINCE_CHOICES: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
STATE_ACTIONS = {
    "read": ("read", True),
    "unread": ("read", False),
    "mute": ("muted", True),
    "unmute": ("muted", False),
}
# Matching snippets shown under a story in search results; the rest are on its page.
SNIPPETS_PER_STORY = 3
# Pages are ours, links go out to articles: no framing (clickjacking on the buttons), no
# scripts at all, and no Referer telling article sites about a local review page. Not
# "no-referrer": with it browsers send `Origin: null` on our own forms, and those are refused.
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]
_CLUSTER = re.compile(r"/clusters/(\d{1,18})")  # beyond 18 digits SQLite integers overflow
_CLUSTER_STATE = re.compile(r"/clusters/(\d{1,18})/state")
_TOPIC_ATOM = re.compile(r"/topics/(.+)\.atom")
_LOCAL_PATH = re.compile(r"/(?![/\\])[!-~]*")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ReviewApp:
    def __init__(
        self,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        secret: bytes | None = None,
    ) -> None:
        """`host` and `port` are what the server is bound to: only those Host names are answered."""
        self.settings = settings
        self.guard = RequestGuard(host, port, secret)
        self.clock = clock
        self.templates = Environment(
            loader=PackageLoader("wirewatch.web", "templates"), autoescape=True, undefined=StrictUndefined
        )
        self.templates.filters["when"] = format_when
        self.templates.filters["tier_label"] = lambda tier: (tier or "original").replace("_", " ")
        self.templates.filters["href"] = safe_href
        self.templates.filters["marked"] = marked
        self.templates.globals["csrf_token"] = self.guard.token

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self.handle(parse_request(environ))
        except FormTooLarge:
            response = self._error(413, "That form is larger than any this page sends.")
        except Exception:
            log.exception(
                "review page: %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            response = self._error(500, "Something went wrong; the server log has the details.")
        body = response.body.encode("utf-8")
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
            *response.headers,
        ]
        start_response(STATUS_LINES[response.status], headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def handle(self, request: Request) -> Response:
        if not self.guard.host_ok(request.host):
            return self._error(403, f"This server does not answer to the host name {request.host!r}.")
        path = request.path
        if match := _CLUSTER_STATE.fullmatch(path):
            return self._only(request, "POST") or self.change_state(request, int(match[1]))
        if request.method not in ("GET", "HEAD"):
            return self._error(405, "Pages here are read with GET; only state changes are POSTed.", "GET")
        if path == "/":
            return self.clusters_page(request)
        if match := _CLUSTER.fullmatch(path):
            return self.cluster_page(int(match[1]))
        if path == "/feeds":
            return self.feeds_page()
        if match := _TOPIC_ATOM.fullmatch(path):
            return self.topic_atom(request, match[1])
        if path == "/static/style.css":
            css = resources.files("wirewatch.web").joinpath("static/style.css").read_text(encoding="utf-8")
            return Response(body=css, content_type="text/css; charset=utf-8")
        return self._error(404, f"Nothing here: {path}")

    # --- pages -----------------------------------------------------------------------------

    def clusters_page(self, request: Request) -> Response:
        topic = request.query.get("topic", "").strip()
        since_key = request.query.get("since", "all")
        if since_key not in SINCE_CHOICES:
            since_key = "all"
        query = request.query.get("q", "").strip()
        delta = SINCE_CHOICES[since_key]
        since = self.clock() - delta if delta else None
        error, snippets = None, {}
        with self._store() as store:
            configured = {t.name for t in self.settings.topics} | {w.name for w in self.settings.watchlists}
            topics = sorted(configured | set(store.review.topic_names()))
            if query:
                try:
                    hits = store.review.search(query)
                except QueryError as exc:
                    error, hits = exc.reason, []
                snippets = _snippets_by_cluster(hits)
                found = store.review.clusters(topic or None, since, ids=list(snippets))
                order = {cid: n for n, cid in enumerate(snippets)}
                found.sort(key=lambda c: order[c.id])
            else:
                found = store.review.clusters(topic or None, since)
        page = self._render(
            "clusters.html",
            clusters=found,
            topics=topics,
            topic=topic,
            since=since_key,
            since_choices=list(SINCE_CHOICES),
            query=query,
            error=error,
            snippets=snippets,
            here=_here(request),
        )
        return Response(status=400 if error else 200, body=page)

    def cluster_page(self, cluster_id: int) -> Response:
        with self._store() as store:
            live = store.clusters.live(cluster_id)
            if live != cluster_id:
                # The story was merged into another cluster: its page is there now.
                return Response(status=301, headers=[("Location", f"/clusters/{live}")])
            cluster = store.review.cluster(cluster_id)
            if cluster is None:
                return self._error(404, f"No story cluster {cluster_id}.")
            articles = store.articles.listing(cluster_id)
            related = store.links.related(cluster_id)
            developments = store.outbox.development_articles(cluster_id)
        page = self._render(
            "cluster.html",
            cluster=cluster,
            summary=story_summary([(a.source, a.text) for a in articles]),
            articles=articles,
            related=related,
            timeline=build_timeline(articles, developments),
            developments=developments,
            here=f"/clusters/{cluster_id}",
        )
        return Response(body=page)

    def feeds_page(self) -> Response:
        with self._store() as store:
            states = store.feeds.listing()
        # Failing feeds first: the page exists to find them.
        states.sort(key=lambda f: (-f.consecutive_failures, f.name.lower()))
        polled = {f.url for f in states}
        unpolled = [f for f in self.settings.feeds if f.url not in polled]
        failing = sum(1 for f in states if f.consecutive_failures)
        page = self._render("feeds.html", feeds=states, unpolled=unpolled, failing=failing, here="/feeds")
        return Response(body=page)

    def topic_atom(self, request: Request, topic: str) -> Response:
        with self._store() as store:
            clusters = store.clusters.listing(topic, muted=False)  # a muted story leaves the feed
        if not clusters and topic not in {t.name for t in self.settings.topics}:
            return self._error(404, f"No topic named {topic!r}.")
        self_url = f"{request.base_url}/topics/{quote(topic, safe='')}.atom"
        body = render_atom(topic, clusters, self.clock(), self_url=self_url, ui_base=request.base_url)
        return Response(body=body, content_type="application/atom+xml; charset=utf-8")

    # --- writes ----------------------------------------------------------------------------

    def change_state(self, request: Request, cluster_id: int) -> Response:
        if not self.guard.token_ok(request.form.get("csrf")) or not self.guard.origin_ok(
            request.origin, request.host
        ):
            return self._error(403, "The form's security token did not match. Reload the page and try again.")
        action = STATE_ACTIONS.get(request.form.get("action", ""))
        if action is None:
            return self._error(400, f"Unknown action {request.form.get('action', '')!r}.")
        column, value = action
        with self._store() as store:
            if store.review.cluster(cluster_id) is None:
                return self._error(404, f"No story cluster {cluster_id}.")
            if column == "read":
                store.review.set_read(cluster_id, value, self.clock())
            else:
                store.review.set_muted(cluster_id, value, self.clock())
        target = request.form.get("next", "")
        if not _is_local_path(target):
            target = f"/clusters/{cluster_id}"
        return Response(status=303, headers=[("Location", target)])

    # --- helpers ---------------------------------------------------------------------------

    @contextmanager
    def _store(self) -> Iterator[Store]:
        store = open_store(self.settings.database)
        try:
            yield store
        finally:
            store.close()

    def _render(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(**context)

    def _only(self, request: Request, method: str) -> Response | None:
        if request.method == method:
            return None
        return self._error(405, f"Use {method} here.", method)

    def _error(self, status: int, message: str, allow: str | None = None) -> Response:
        body = self._render("error.html", status=STATUS_LINES[status], message=message, here="")
        headers = [("Allow", allow)] if allow else []
        return Response(status=status, body=body, headers=headers)


def format_when(stored: str | None) -> str:
    moment = parse_iso(stored)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def marked(paragraph: str, sentences: Iterable[str] | None) -> Markup:
    """The paragraph, escaped, with each of these sentences in it highlighted (<mark>)."""
    found = sorted(
        {(at, at + len(s)) for s in sentences or () if s and (at := paragraph.find(s)) >= 0},
        key=lambda span: span[0],
    )
    out, last = [], 0
    for start, end in found:
        if start < last:
            continue  # overlapping: the first one is marked
        out += [escape(paragraph[last:start]), Markup('<mark class="new">'), escape(paragraph[start:end])]
        out.append(Markup("</mark>"))
        last = end
    out.append(escape(paragraph[last:]))
    return Markup("").join(out)


def safe_href(url: str) -> str:
    """Escaping keeps markup out of a link but not a `javascript:` scheme: allow only these."""
    return url if is_openable(url) else "#"


def _snippets_by_cluster(hits: list[SearchHit]) -> dict[int, list[list[tuple[str, bool]]]]:
    """Best match first; each snippet split into (text, is_match) parts so the template marks
    matches without ever trusting the text as HTML."""
    groups: dict[int, list[list[tuple[str, bool]]]] = {}
    for hit in hits:
        if hit.cluster_id is None:
            continue
        shown = groups.setdefault(hit.cluster_id, [])
        if len(shown) < SNIPPETS_PER_STORY:
            shown.append(split_snippet(hit.snippet))
    return groups


def split_snippet(snippet: str) -> list[tuple[str, bool]]:
    """`a [b] c` → [("a ", False), ("b", True), (" c", False)]: FTS5 marks matches in brackets."""
    parts: list[tuple[str, bool]] = []
    for n, piece in enumerate(re.split(r"\[([^\[\]]*)\]", snippet)):
        if piece:
            parts.append((piece, n % 2 == 1))
    return parts


def _here(request: Request) -> str:
    return request.path + ("?" + urlencode(request.query) if request.query else "")


def _is_local_path(target: str) -> bool:
    # One "/", then printable ASCII without spaces: browsers read "//host" and "/\host" as other
    # sites and drop tabs and newlines first ("/\t/host" is "//host"), and a CR or LF would end
    # the Location header and start one of the sender's choosing.
    return _LOCAL_PATH.fullmatch(target) is not None
