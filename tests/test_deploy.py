"""The scheduled job, as a user deploys it: a real `prefect server start` whose own scheduler
creates the runs (no run started by the test), served by `wirewatch serve` or picked up by a
worker of a process work pool from `deployments/prefect.yaml`."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, demo_config_text, write_config
from wirewatch.config import load_settings
from wirewatch.errors import ConfigError
from wirewatch.flows.deploy import build_schedule
from wirewatch.settings import ScheduleSettings

DEPLOYMENT = "wirewatch-scheduled/wirewatch"
# The server's scheduler loop, shortened from Prefect's 60 s so a test waits seconds, not minutes.
SCHEDULER_LOOP_S = 5
# A run every minute: the first one is due within 60 s of registering.
EVERY_MINUTE = '\n[schedule]\ncron = "* * * * *"\n'
RUN_DEADLINE_S = 240


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    log: Path
    home: Path

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment of a process that talks to this server (serve, deploy, worker)."""
        return {
            **os.environ,
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.home / "client"),
            # serve warns after two of these periods: a margin over the server's real loop.
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(3 * SCHEDULER_LOOP_S),
            # How often serve and workers ask for due runs (Prefect's default is 10 s).
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            **extra,
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def scheduling_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """`prefect server start`, as the README says, with all its services (the test harness's
    server runs no scheduler)."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    server = PrefectServer(api_url=f"http://127.0.0.1:{port}/api", log=home / "server.log", home=home)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(SCHEDULER_LOOP_S),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(server.api_url):
            assert process.poll() is None, server.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "prefect server start did not answer in 120 s"
            time.sleep(0.5)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _background(argv: list[str], env: dict[str, str], output: Path) -> Iterator[subprocess.Popen[bytes]]:
    with output.open("wb") as sink:
        process = subprocess.Popen(
            argv, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def _api(api_url: str) -> Iterator[Any]:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        with get_client(sync_client=True) as client:
            yield client


def _runs(api_url: str) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with _api(api_url) as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
        ours = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        return list(client.read_flow_runs(deployment_filter=ours))


def _wait_for_completed_run(
    server: PrefectServer, process: subprocess.Popen[bytes], output: Path, since: datetime
) -> Any:
    """The first run of the deployment created after `since` to finish (the module's tests
    share the deployment's name, so the server keeps the runs of the one before)."""
    deadline = time.monotonic() + RUN_DEADLINE_S
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text(errors="replace")[-3000:]
        _assert_clean_server_log(server)
        try:
            runs = _runs(server.api_url)
        except Exception:  # the deployment is not registered yet
            runs = []
        finished = [
            run for run in runs if run.created >= since and run.state is not None and run.state.is_final()
        ]
        if finished:
            return finished[0]
        time.sleep(1)
    raise AssertionError(
        f"no run finished in {RUN_DEADLINE_S} s:\n" + output.read_text(errors="replace")[-3000:]
    )


def _article_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def _assert_clean_server_log(server: PrefectServer) -> None:
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]


def test_schedule_is_read_from_the_config(tmp_path: Path) -> None:
    cron = write_config(tmp_path, '[schedule]\ncron = "*/10 6-22 * * *"\ntimezone = "Europe/Berlin"\n')
    schedule = build_schedule(load_settings(str(cron), env={}).schedule)
    assert schedule.cron == "*/10 6-22 * * *" and schedule.timezone == "Europe/Berlin"
    assert build_schedule(ScheduleSettings(interval_minutes=30)).interval == timedelta(minutes=30)
    bad = write_config(tmp_path, '[schedule]\ncron = "61 * * * *"\n', name="bad.toml")
    with pytest.raises(ConfigError, match=r"schedule.cron: invalid cron expression '61 \* \* \* \*'"):
        load_settings(str(bad), env={})
    zone = write_config(tmp_path, '[schedule]\ntimezone = "Mars/Olympus"\n', name="zone.toml")
    with pytest.raises(ConfigError, match="schedule.timezone: unknown time zone"):
        load_settings(str(zone), env={})


def test_the_servers_scheduler_runs_wirewatch_serve(
    scheduling_server: PrefectServer, demo_proxy: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, demo_config_text(demo_proxy) + EVERY_MINUTE)
    db = tmp_path / "served.db"
    output = tmp_path / "serve.out"
    serve = [sys.executable, "-m", "wirewatch.cli", "serve", "--config", str(config), "--db", str(db)]
    since = datetime.now(UTC)
    with _background(serve, scheduling_server.client_env(), output) as process:
        run = _wait_for_completed_run(scheduling_server, process, output, since)
        assert run.state.is_completed(), run.state
        # Created by the server's scheduler, not by anyone asking for a run.
        assert run.auto_scheduled and run.created_by.type == "SCHEDULE", run
        with _api(scheduling_server.api_url) as client:
            deployment = client.read_deployment_by_name(DEPLOYMENT)
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == 1
        assert process.poll() is None, "serve stopped after its first run"
    said = output.read_text(errors="replace")
    assert f"Serving {DEPLOYMENT} on cron '* * * * *' (UTC)" in said
    assert "Next scheduled run: " in said
    assert "No scheduled run" not in said
    assert _article_count(db) == 21
    artifacts = _artifacts(scheduling_server.api_url, "wirewatch-run")
    assert artifacts and "## New story clusters (17)" in str(artifacts[0]["data"])
    _assert_clean_server_log(scheduling_server)


def _artifacts(api_url: str, key: str) -> list[dict[str, object]]:
    """Straight from the REST API: this Prefect's client sends nulls its server rejects (422)."""
    body = {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 10, "offset": 0}
    response = httpx.post(f"{api_url}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return list(response.json())


def test_a_worker_runs_the_scheduled_prefect_yaml_deployment(
    scheduling_server: PrefectServer, demo_proxy: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, 'database = "pool.db"\n' + demo_config_text(demo_proxy))
    shipped = (PROJECT_ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8")
    assert shipped.count('cron: "*/15 * * * *"') == 1
    # The shipped deployment, due every minute instead of every 15 so the test sees a run.
    yaml = tmp_path / "prefect.yaml"
    yaml.write_text(shipped.replace('cron: "*/15 * * * *"', 'cron: "* * * * *"'), encoding="utf-8")
    env = scheduling_server.client_env(WIREWATCH_CONFIG=str(config), PWD=str(PROJECT_ROOT))
    prefect = [sys.executable, "-m", "prefect", "--no-prompt"]
    since = datetime.now(UTC)
    for step in (
        ["work-pool", "create", "wirewatch-pool", "--type", "process"],
        ["deploy", "--all", "--prefect-file", str(yaml)],
    ):
        done = subprocess.run([*prefect, *step], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with _api(scheduling_server.api_url) as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
    assert deployment.work_pool_name == "wirewatch-pool"
    assert deployment.entrypoint == "flows/pipeline.py:scheduled_flow"
    assert deployment.parameters == {"config": str(config)}
    assert deployment.schedules[0].schedule.cron == "* * * * *"
    output = tmp_path / "worker.out"
    worker = [*prefect, "worker", "start", "--pool", "wirewatch-pool"]
    with _background(worker, env, output) as process:
        run = _wait_for_completed_run(scheduling_server, process, output, since)
    assert run.state.is_completed(), (run.state, output.read_text(errors="replace")[-3000:])
    assert run.auto_scheduled and run.created_by.type == "SCHEDULE"
    assert run.work_pool_name == "wirewatch-pool"
    assert _article_count(tmp_path / "pool.db") == 21
    _assert_clean_server_log(scheduling_server)


@pytest.mark.usefixtures("prefect_server")
def test_serve_says_when_the_server_schedules_nothing(demo_proxy: str, tmp_path: Path) -> None:
    """The test harness's server runs no scheduler service: exactly the silent failure."""
    from prefect.settings import PREFECT_API_URL

    config = write_config(tmp_path, demo_config_text(demo_proxy) + EVERY_MINUTE)
    api_url = str(PREFECT_API_URL.value())
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
    }
    output = tmp_path / "serve.out"
    serve = [
        sys.executable,
        "-m",
        "wirewatch.cli",
        "serve",
        "--config",
        str(config),
        "--db",
        str(tmp_path / "s.db"),
    ]
    with _background(serve, env, output) as process:
        deadline = time.monotonic() + 90
        while "No scheduled run" not in output.read_text(errors="replace"):
            assert process.poll() is None, output.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, output.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        time.sleep(2)
        assert process.poll() is None, "serve stopped after its warning; it must keep serving"
    warnings = [line for line in output.read_text().splitlines() if "No scheduled run" in line]
    assert len(warnings) == 1, warnings
    assert f"No scheduled run of {DEPLOYMENT} after " in warnings[0]
    assert f"on {api_url}: check the Prefect server's log" in warnings[0]
    assert "Next scheduled run" not in output.read_text()


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path: Path) -> None:
    config = write_config(tmp_path, EVERY_MINUTE)
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", "serve", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "PREFECT_API_URL is not set" in done.stderr and "prefect server start" in done.stderr
