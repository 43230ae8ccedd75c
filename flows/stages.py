"""The pipeline's stages as plain functions: tests call them without Prefect.

Each stage takes explicit inputs (settings, store, fetcher) and returns a record of what it did,
including one-line errors for the items it had to skip; a bad item never stops the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from wirewatch.errors import ExtractionError, WirewatchError
from wirewatch.extractors import MIN_ARTICLE_WORDS, extract_page
from wirewatch.extractors.article import read_file_page, word_count
from wirewatch.extractors.feed_content import feed_article_text
from wirewatch.extractors.language import language_of
from wirewatch.extractors.templates import TEMPLATE_MIN_PAGES, strip_template, template_candidates
from wirewatch.fetch.feeds import ParsedFeed, parse_feed
from wirewatch.fetch.http import Fetcher, FetchResult
from wirewatch.fetch.schedule import next_fetch_after_failure, next_fetch_after_success
from wirewatch.records import FeedEntry, FeedOutcome, FeedState, NewArticle, Page
from wirewatch.settings import FeedConfig
from wirewatch.store import Store
from wirewatch.timeutil import parse_iso

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, */*;q=0.8"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8, */*;q=0.5"


@dataclass
class StageReport:
    """What a stage did, for the run summary; errors are one line each, naming the culprit."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- fetch ---------------------------------------------------------------------------------


@dataclass
class FeedPoll:
    entries: list[FeedEntry]
    report: StageReport
    fetched: list[FeedOutcome]  # successful fetches: record them with the entries they brought


def poll_feeds(
    feeds: Iterable[FeedConfig],
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    *,
    force: bool = False,
) -> FeedPoll:
    """Fetch every due feed (conditional GET) and return the entries of those that changed.

    Failures are recorded at once (their backoff). Successes are returned, not recorded: their
    validators (ETag, Last-Modified) may only be stored once the entries are, in the same
    transaction, or a run killed in between would get "304 Not Modified" for entries it never
    stored. Feed state is read in one query: hundreds of feeds must not cost a round trip each.
    """
    report = StageReport()
    feeds = list(feeds)
    states = store.feeds.states([(f.url, f.name) for f in feeds])
    due: list[tuple[FeedConfig, FeedState]] = []
    for feed in feeds:
        state = states[feed.url]
        next_fetch = parse_iso(state.next_fetch)
        if not force and next_fetch and next_fetch > now:
            report.skipped += 1
            why = (
                f"backing off after {state.consecutive_failures} failures ({state.last_error})"
                if state.consecutive_failures
                else "not due yet"
            )
            report.notes.append(f"{feed.url}: {why}; next fetch {state.next_fetch}")
            continue
        due.append((feed, state))

    def fetch_one(
        item: tuple[FeedConfig, FeedState],
    ) -> tuple[FetchResult, ParsedFeed | None] | WirewatchError:
        # Parsing here, as each response arrives, overlaps it with the other feeds' downloads.
        feed, state = item
        try:
            result = fetcher.get(
                feed.url,
                max_bytes=fetcher.settings.max_feed_bytes,
                etag=state.etag,
                last_modified=state.last_modified,
                accept=FEED_ACCEPT,
            )
        except WirewatchError as exc:
            return exc
        if result.not_modified:
            return result, None
        return result, parse_feed(result.body, feed.url, feed.name, result.content_type)

    with ThreadPoolExecutor(max_workers=fetcher.settings.concurrency) as pool:
        results = list(pool.map(fetch_one, due))
    entries: list[FeedEntry] = []
    failures: list[FeedOutcome] = []
    successes: list[FeedOutcome] = []
    for (feed, state), fetched in zip(due, results, strict=True):
        if isinstance(fetched, WirewatchError):
            retry_after = getattr(fetched, "retry_after_s", None)
            next_fetch = next_fetch_after_failure(now, state.consecutive_failures + 1, retry_after)
            status = getattr(fetched, "status", None)
            failures.append(FeedOutcome(feed.url, status, now, next_fetch, error=str(fetched)))
            report.failed += 1
            report.errors.append(f"feed {fetched}")
            continue
        result, parsed = fetched
        next_fetch = next_fetch_after_success(
            now,
            interval_s=feed.interval_minutes * 60 if feed.interval_minutes else None,
            max_age_s=result.max_age_s,
            ttl_minutes=parsed.ttl_minutes if parsed else None,
        )
        successes.append(
            FeedOutcome(
                feed.url, result.status, now, next_fetch, etag=result.etag, last_modified=result.last_modified
            )
        )
        report.done += 1
        if parsed is None:
            continue
        if parsed.problem:
            report.notes.append(f"{feed.url}: {parsed.problem}")
        if parsed.skipped:
            report.notes.append(f"{feed.url}: {parsed.skipped} empty entries (no title, summary or content)")
        entries.extend(parsed.entries)
    store.feeds.record_outcomes(failures)
    return FeedPoll(_unique_entries(entries), report, successes)


def _unique_entries(entries: list[FeedEntry]) -> list[FeedEntry]:
    """The same article listed by two feeds is fetched once (first feed wins)."""
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        seen.setdefault(entry.url, entry)
    return list(seen.values())


# A page that failed this many times stays feed-only (a paywall, a 403 that never lifts).
MAX_PAGE_ATTEMPTS = 5


def fetch_pages(
    entries: list[FeedEntry], store: Store, fetcher: Fetcher, on_page: Callable[[Page], None] | None = None
) -> tuple[list[Page], StageReport]:
    """Fetch the pages of new entries, and retry those stored from their feed entry alone.

    A page that cannot be fetched comes back as a Page with its `error` set: the entry is still
    stored from the feed's title and summary, and its page is tried again on later runs.
    `on_page` sees each page as it arrives (in this thread), so extraction can start before the
    last page is in; the pages are returned in the entries' order.
    """
    report = StageReport()
    urls = [e.url for e in entries]
    known = store.feeds.known_urls(urls)
    retry = store.feeds.feed_only_urls(sorted(known), MAX_PAGE_ATTEMPTS)
    new = [e for e in entries if e.url not in known or e.url in retry]
    # An entry without a link has no page: it is stored from the feed, once (not retried).
    unlinked = [_feed_page(e, NO_LINK) for e in new if not e.link and e.url not in known]
    todo = [e for e in new if e.link]
    report.skipped = len(entries) - len(todo)

    def fetch_one(entry: FeedEntry) -> Page:
        try:
            result = fetcher.get(
                entry.link or entry.url, max_bytes=fetcher.settings.max_page_bytes, accept=PAGE_ACCEPT
            )
        except WirewatchError as exc:
            return _feed_page(entry, str(exc))
        return Page(
            url=entry.url,
            source=entry.source,
            body=result.text(),
            content_type=result.media_type,
            entry=entry,
        )

    with ThreadPoolExecutor(max_workers=fetcher.settings.concurrency) as pool:
        futures = [pool.submit(fetch_one, entry) for entry in todo]
        if on_page is not None:
            for future in as_completed(futures):
                on_page(future.result())
        pages = [future.result() for future in futures]
    if on_page is not None:
        for page in unlinked:
            on_page(page)
    pages.extend(unlinked)
    for page in pages:
        if page.error == NO_LINK:
            continue
        if page.error:
            report.failed += 1
            report.errors.append(f"page {page.error}")
        else:
            report.done += 1
    return pages, report


# The page error of an entry whose feed gives no link: stored from the feed, not a failure.
NO_LINK = "the feed gives no link"


def _feed_page(entry: FeedEntry, error: str) -> Page:
    """A page that could not be had: the entry is stored from its feed's own text."""
    return Page(url=entry.url, source=entry.source, body="", content_type="", entry=entry, error=error)


def read_files(paths: Iterable[Path], source: str | None) -> tuple[list[Page], StageReport]:
    report = StageReport()
    pages = []
    for path in paths:
        try:
            pages.append(read_file_page(path, source))
            report.done += 1
        except WirewatchError as exc:
            report.failed += 1
            report.errors.append(f"file {exc}")
    return pages, report


# --- extract -------------------------------------------------------------------------------


# The page's text gives way to the feed's own full text when it has less than this share of its
# words: the page was a teaser, a consent wall or an app shell, and the feed carried the article.
PAGE_SHARE_OF_FEED_TEXT = 0.5


def extract_articles(pages: list[Page]) -> tuple[list[NewArticle], StageReport]:
    """Extract each page. A feed entry whose page failed or held no article is kept from the
    feed: its full text when the feed carries one, else its title and summary, marked
    `from_feed_only` (the page is tried again later). A page that extracts to much less than the
    feed's full text is stored with the feed's text."""
    report = StageReport()
    articles = []
    for page in pages:
        entry = page.entry
        feed_text = feed_article_text(entry.content_html) if entry is not None else ""
        if word_count(feed_text) < MIN_ARTICLE_WORDS:
            feed_text = ""
        try:
            if page.error:
                raise ExtractionError(page.url, page.error)
            extracted = extract_page(page)
        except WirewatchError as exc:
            if page.error == NO_LINK and entry is not None:
                articles.append(_from_feed_entry(entry, NO_LINK, feed_text))
                report.done += 1
                continue
            report.failed += 1
            if not page.error:
                report.errors.append(f"extract {exc}")
            if entry is not None:
                articles.append(_from_feed_entry(entry, page.error or str(exc), feed_text))
                kept = "its feed's full text" if feed_text else "its feed entry"
                report.notes.append(f"{entry.url}: stored from {kept}; its page is retried later")
            continue
        text, source = extracted.text, "page"
        if feed_text and word_count(text) < PAGE_SHARE_OF_FEED_TEXT * word_count(feed_text):
            text, source = feed_text, "feed"
            report.notes.append(
                f"{page.url}: the page held a fraction of the feed's text; the feed's is kept"
            )
        articles.append(
            NewArticle(
                url=page.url,
                source=page.source,
                title=extracted.title or (entry.title if entry else page.url),
                text=text,
                # The feed's date is the publisher's own statement; the page's is a fallback.
                published=(entry.published if entry and entry.published else extracted.date),
                author=extracted.author or (entry.author if entry else None),
                sitename=extracted.sitename,
                feed_url=entry.feed_url if entry else None,
                paragraph_keys=template_candidates(text),
                language=language_of(extracted.language or (entry.language if entry else None), text),
                text_source=source,
            )
        )
        report.done += 1
    return articles, report


def _from_feed_entry(entry: FeedEntry, error: str, feed_text: str = "") -> NewArticle:
    return NewArticle(
        url=entry.url,
        source=entry.source,
        title=entry.title,
        text=feed_text or entry.summary,
        published=entry.published,
        author=entry.author,
        feed_url=entry.feed_url,
        from_feed_only=True,
        page_error=error,
        text_source="feed",
        language=language_of(entry.language, f"{entry.title}. {feed_text or entry.summary}"),
    )


def strip_source_templates(
    articles: list[NewArticle], stored_counts: Callable[[str, list[str]], dict[str, int]]
) -> tuple[list[NewArticle], StageReport]:
    """Remove paragraphs that recur on TEMPLATE_MIN_PAGES pages of the same source.

    Pages already stored and the other pages of this batch both count, so the template is
    found in the first run that brings enough pages of a source.
    """
    report = StageReport()
    by_source: dict[str, list[NewArticle]] = {}
    for article in articles:
        by_source.setdefault(article.source, []).append(article)
    cleaned: list[NewArticle] = []
    for source, group in by_source.items():
        in_batch = Counter(key for a in group for key in a.paragraph_keys)
        stored = stored_counts(source, list(in_batch))
        template = {k for k, n in in_batch.items() if n + stored.get(k, 0) >= TEMPLATE_MIN_PAGES}
        for article in group:
            text = strip_template(article.text, template) if template else article.text
            if text != article.text:
                report.done += 1
            cleaned.append(replace(article, text=text))
        if template:
            report.notes.append(f"{source}: {len(template)} template paragraphs")
    return cleaned, report
