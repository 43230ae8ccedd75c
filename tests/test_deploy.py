"""`wirewatch serve`: a real Prefect deployment on the config's schedule, whose runs fill the store
and leave a markdown artifact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from flows.deploy import build_schedule
from tests.conftest import demo_config_text, write_config
from wirewatch.config import ScheduleSettings, load_settings
from wirewatch.errors import ConfigError

pytestmark = pytest.mark.usefixtures("prefect_server")


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


def test_serve_creates_a_deployment_whose_runs_fill_the_store(demo_proxy: str, tmp_path: Path) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    config = write_config(tmp_path, demo_config_text(demo_proxy) + "\n[schedule]\ninterval_minutes = 720\n")
    db = tmp_path / "served.db"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    server = subprocess.Popen(
        [sys.executable, "-m", "wirewatch.cli", "serve", "--config", str(config), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        flow_run = None
        deadline = time.monotonic() + 120
        while flow_run is None and time.monotonic() < deadline:
            try:
                flow_run = run_deployment("wirewatch-scheduled/wirewatch", timeout=0)
            except Exception:  # the deployment is not registered yet
                time.sleep(1)
        assert flow_run is not None, "serve never registered its deployment"
        deployment = _deployment()
        assert deployment.schedules[0].schedule.interval == timedelta(minutes=720)
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == 1
        while time.monotonic() < deadline:
            state = _state(flow_run.id)
            if state.is_final():
                break
            time.sleep(1)
        assert state.is_completed(), state
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 20
    artifacts = _artifacts("wirewatch-run")
    assert artifacts and "## New story clusters (16)" in str(artifacts[0]["data"])


def _deployment():  # type: ignore[no-untyped-def]
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name("wirewatch-scheduled/wirewatch")


def _state(flow_run_id):  # type: ignore[no-untyped-def]
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def _artifacts(key: str) -> list[dict[str, object]]:
    """Straight from the REST API: this Prefect's client sends nulls its server rejects (422)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {
        "artifacts": {"key": {"any_": [key]}},
        "sort": "CREATED_DESC",
        "limit": 10,
        "offset": 0,
    }
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return list(response.json())


def test_prefect_yaml_deploys_to_a_process_work_pool(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    from tests.conftest import PROJECT_ROOT

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "WIREWATCH_CONFIG": str(tmp_path / "w.toml"),
    }
    prefect = [sys.executable, "-m", "prefect", "--no-prompt"]
    subprocess.run(
        [*prefect, "work-pool", "create", "wirewatch-pool", "--type", "process"],
        env=env,
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
    )
    done = subprocess.run(
        [*prefect, "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    deployment = _deployment()
    assert deployment.work_pool_name == "wirewatch-pool"
    assert deployment.entrypoint == "flows/pipeline.py:scheduled_flow"
    assert deployment.parameters == {"config": str(tmp_path / "w.toml")}
    assert deployment.schedules[0].schedule.cron == "*/15 * * * *"
