"""What a user sees from the pipeline commands: the summary and problems by default, every log line
with --verbose, progress on a terminal, and quick commands that need no Prefect server."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import demo_config_text, write_config
from wirewatch.cli_logging import prefect_api_url, prepare_prefect

WIREWATCH = [sys.executable, "-c", "from wirewatch.cli import main; main()"]


@pytest.fixture(scope="module")
def api_url(prefect_server: None) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def _env(tmp_path: Path, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # no profile of the machine's user
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _demo_run(tmp_path: Path, demo_proxy: str, api_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path, demo_config_text(demo_proxy))
    command = [*WIREWATCH, "run", "--config", str(config), "--db", str(tmp_path / "w.db"), *extra]
    return subprocess.run(command, env=_env(tmp_path, api_url), capture_output=True, text=True, timeout=300)


def test_run_prints_its_summary_not_prefects_log(tmp_path: Path, demo_proxy: str, api_url: str) -> None:
    done = _demo_run(tmp_path, demo_proxy, api_url)
    assert done.returncode == 0, done.stderr
    assert "new articles   21" in done.stdout
    assert done.stderr == ""


def test_verbose_run_shows_the_stages_log(tmp_path: Path, demo_proxy: str, api_url: str) -> None:
    done = _demo_run(tmp_path, demo_proxy, api_url, "--verbose")
    assert done.returncode == 0, done.stderr
    assert "new articles   21" in done.stdout
    assert "poll-feeds: 4 done" in done.stderr and "stored 21 new articles" in done.stderr


def test_a_run_on_a_terminal_shows_progress_and_erases_it(
    tmp_path: Path, demo_proxy: str, api_url: str
) -> None:
    config = write_config(tmp_path, demo_config_text(demo_proxy))
    command = [*WIREWATCH, "run", "--config", str(config), "--db", str(tmp_path / "w.db")]
    leader, follower = pty.openpty()
    with subprocess.Popen(
        command, env=_env(tmp_path, api_url), stdout=subprocess.PIPE, stderr=follower, text=True
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.stdout.read() if process.stdout else ""
    os.close(leader)
    assert process.returncode == 0
    assert "new articles   21" in stdout
    text = shown.decode()
    assert "extract: 21 done" in text and "stored 21 new articles" in text
    # Each status line is drawn over the last and the final one is erased.
    assert text.count("\r\x1b[K") >= 3 and text.endswith("\r\x1b[K")


def test_ingest_without_a_prefect_server_runs_in_this_process(seed_paths: list[Path], tmp_path: Path) -> None:
    # No Prefect import, no temporary server: the command answers in about a second.
    code = (
        "import sys\nfrom wirewatch.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('prefect loaded' if 'prefect' in sys.modules else 'prefect not loaded')\n"
    )
    db = tmp_path / "w.db"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, "ingest", *map(str, seed_paths), "--db", str(db)],
        env=_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "new articles   5" in done.stdout
    assert done.stdout.strip().endswith("prefect not loaded")
    assert done.stderr == ""
    print(f"ingest of {len(seed_paths)} files: {took:.1f} s")


def _ingest_flow_runs() -> int:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    async def count() -> int:
        async with get_client() as client:
            names = FlowFilter(name=FlowFilterName(any_=["wirewatch-ingest"]))
            return len(await client.read_flow_runs(flow_filter=names))

    return asyncio.run(count())


def test_ingest_with_a_prefect_server_runs_as_a_flow(
    seed_paths: list[Path], tmp_path: Path, api_url: str
) -> None:
    before = _ingest_flow_runs()
    done = subprocess.run(
        [*WIREWATCH, "ingest", *map(str, seed_paths[:2]), "--db", str(tmp_path / "w.db"), "--json"],
        env=_env(tmp_path, api_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert '"new_articles": 2' in done.stdout
    assert _ingest_flow_runs() == before + 1


def test_the_prefect_server_is_read_from_the_environment_or_the_active_profile(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\n[profiles.ephemeral]\n'
    )
    assert prefect_api_url({"PREFECT_PROFILES_PATH": str(profiles)}) == "http://10.0.0.5:4200/api"
    assert prefect_api_url({"PREFECT_PROFILES_PATH": str(profiles), "PREFECT_PROFILE": "ephemeral"}) is None
    assert prefect_api_url({"PREFECT_API_URL": "http://a/api", "PREFECT_PROFILES_PATH": str(profiles)}) == (
        "http://a/api"
    )
    assert prefect_api_url({"PREFECT_HOME": str(tmp_path / "nowhere")}) is None


def test_a_first_run_waits_for_prefects_new_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first run's ephemeral Prefect server creates and migrates its database before it answers:
    over Prefect's 20 s on a slow machine (the README's first command failed there). The CLI
    waits longer, unless the user set the wait."""
    wait = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    for users in ({}, {wait: "45"}):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | users
        monkeypatch.setattr(os, "environ", env)  # what it sets stays out of the other tests
        prepare_prefect(verbose=False)
        assert int(env[wait]) >= 120 if not users else env[wait] == "45"
