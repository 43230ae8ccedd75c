"""The review page in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
what a reader clicks and sees, on a store made from the demo corpus. Screenshots go to
test-artifacts/ for a human to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_web import NK_OIL, NK_SECOND_SEIZURE, TOPICS, build_demo_store, serve_review
from wirewatch.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no first-run UI, no update or sync traffic, no GPU in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
NK_SEIZURE = "South Korea seizes tanker suspected of breaching North Korea sanctions"


def _need_browser() -> None:
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the browser tests")
        pytest.skip(missing)


# One browser for this module, closed when it ends: while Playwright's sync API is open it marks
# an asyncio loop as running in the main thread, and Prefect's sync calls in later test modules
# would then hand back coroutines instead of results.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = build_demo_store(tmp_path_factory.mktemp("browser") / "demo.db")
    with serve_review(Settings(database=str(db), topics=TOPICS)) as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _shot(page: Page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000  # a real picture, not a blank page


def test_filter_by_topic_open_a_story_and_mark_it_read(page: Page, site: str) -> None:
    page.goto(site + "/")
    assert page.locator("#story-count").inner_text() == "17 stories"
    assert page.locator("li.cluster").count() == 17
    _shot(page, "clusters.png")

    page.select_option("select[name=topic]", "nk-sanctions")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"topic=nk-sanctions"))
    assert page.locator("#story-count").inner_text() == "3 stories"
    assert page.locator("li.cluster .headline").all_inner_texts() == [NK_SECOND_SEIZURE, NK_SEIZURE, NK_OIL]
    oil = page.locator("li.cluster", has_text=NK_OIL)
    assert "4 sources" in oil.locator(".meta").inner_text()
    assert oil.locator(".badge.topic").all_inner_texts() == ["nk-sanctions"]

    oil.locator("a.headline").click()
    page.wait_for_url(re.compile(r"/clusters/\d+$"))
    assert page.locator("h1.headline").inner_text() == NK_OIL
    heads = [" ".join(t.split()) for t in page.locator("li.article .article-head").all_inner_texts()]
    assert heads == [
        "original Meridian Press en 2026-11-19 08:30 UTC",
        "near duplicate Harbor Daily en 2026-11-19 10:05 UTC",
        "near duplicate The Capital Ledger en 2026-11-19 14:20 UTC",
        "related Northern Gazette en 2026-11-20 07:45 UTC",
    ]
    timeline = page.locator("svg.timeline")
    assert timeline.locator("circle.dot").count() == 4
    assert timeline.locator("text.source-label").all_text_contents()[0] == "Meridian Press"

    text = page.locator("li.article").first.locator("details .text")
    assert not text.is_visible()
    page.locator("li.article").first.locator("summary").click()
    assert text.is_visible() and "pass fuel from ship to ship on the open sea" in text.inner_text()

    page.click("button[value=read]")
    page.wait_for_load_state()
    assert page.locator("#read-badge").inner_text() == "read"
    assert page.locator("button[value=unread]").inner_text() == "Mark unread"
    _shot(page, "cluster.png", full_page=True)

    page.click("text=← All stories")
    assert "is-read" in (page.locator("li.cluster", has_text=NK_OIL).get_attribute("class") or "")
    assert "is-read" not in (page.locator("li.cluster", has_text=NK_SEIZURE).get_attribute("class") or "")


def test_search_box_marks_matches_and_explains_a_bad_query(page: Page, site: str) -> None:
    page.goto(site + "/")
    page.fill("input[name=q]", "dock* AND strike*")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=dock"))
    assert page.locator("#story-count").inner_text() == "1 story"
    assert page.locator("li.cluster mark").count() >= 2

    page.fill("input[name=q]", 'AND "north')
    page.press("input[name=q]", "Enter")
    error = page.locator("p.error")
    assert error.inner_text().startswith("Invalid query: fts5: ")
    assert page.locator("input[name=q]").input_value() == 'AND "north'


def test_mute_a_story_and_check_feed_health(page: Page, site: str) -> None:
    page.goto(site + "/?topic=port-strike")
    page.locator("li.cluster a.headline").first.click()
    page.click("button[value=mute]")
    page.wait_for_load_state()
    assert page.locator("#muted-badge").inner_text() == "muted: no further alerts"
    page.click("header.site >> text=Stories")
    # count() does not wait: wait for the list page before counting its muted stories.
    page.wait_for_selector("#story-count")
    assert page.locator("li.cluster.is-muted").count() == 1

    page.click("header.site >> text=Feeds")
    assert page.locator("h1").inner_text() == "Feed health"
    assert "0 failing" in page.locator("#failing-count").inner_text()
