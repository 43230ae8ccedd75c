"""Shared fixtures: real SQLite files under tmp_path, the demo corpus on a loopback server, the
seed articles from ../shared, and one Prefect test server for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
DEMO_HOST = "http://demo.wirewatch.invalid"


def _need_shared(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have ../shared beside the project")
        pytest.skip(f"{path} not present (the shared data sits beside the project)")
    return path


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(_need_shared(SEEDS).glob("*.txt"))
    assert len(paths) == 5, paths
    return paths


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test server per session; only flow tests request it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_proxy() -> Iterator[str]:
    from wirewatch.demo_server import serve_demo

    with serve_demo() as proxy:
        yield proxy


def write_config(directory: Path, body: str, name: str = "wirewatch.toml") -> Path:
    path = directory / name
    path.write_text(body, encoding="utf-8")
    return path


def demo_config_text(proxy: str, extra_feeds: str = "", alert_urls: str = "") -> str:
    """The demo's feeds and topics as a user's own config, fetched through the demo server."""
    feeds = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{DEMO_HOST}/feeds/{slug}.xml"\n\n'
        for slug, name in [
            ("meridian", "Meridian Press"),
            ("harbor", "Harbor Daily"),
            ("capital", "The Capital Ledger"),
            ("northern", "Northern Gazette"),
        ]
    )
    return (
        feeds
        + extra_feeds
        + '[[topics]]\nname = "nk-sanctions"\nquery = \'"north korea" AND sanction*\'\n\n'
        + "[[topics]]\nname = \"port-strike\"\nquery = 'dock* AND strike*'\n\n"
        + f"[alerts]\nurls = [{alert_urls}]\n\n"
        + f'[fetch]\nallow_private_networks = true\nproxy = "{proxy}"\n'
    )
