"""Where the time of a wirewatch run on the demo goes: Prefect's fixed cost vs the pipeline.

Run: python -m benchmarks.run_demo
Measures, in one run on this machine:
  1. the pipeline's stages as plain functions (no Prefect) over the demo corpus on loopback,
     a first pass (20 new articles) and a second (nothing new): the baselines;
  2. the whole `wirewatch run` command in a subprocess (an ephemeral Prefect server's start-up
     included), twice;
  3. a served run: `prefect server start`, `wirewatch serve` on the demo, two runs of its
     deployment, each timed from the states Prefect records: from Pending (serve took the run
     and starts its child process) to Completed;
  4. `wirewatch run` with PREFECT_API_URL set to that running server (no ephemeral server);
and prints each with its ratio to the plain first pass, and the fixed cost of each way to run
(its time minus the plain pass that did the same work).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import httpx

from wirewatch.config import load_settings
from wirewatch.demo_server import serve_demo
from wirewatch.fetch.http import Fetcher
from wirewatch.flows.commit import commit_articles, deliver_alerts, load_index
from wirewatch.flows.stages import extract_articles, fetch_pages, poll_feeds, strip_source_templates
from wirewatch.store import open_store
from wirewatch.timeutil import utc_now


def plain_pipeline(db: Path) -> float:
    settings = load_settings(None, db_override=str(db), env={"WIREWATCH_CONFIG": ""})
    start = time.perf_counter()
    with serve_demo() as proxy:
        settings = replace(settings, fetch=replace(settings.fetch, proxy=proxy))
        store = open_store(settings.database)
        with Fetcher(settings.fetch) as fetcher:
            poll = poll_feeds(settings.feeds, store, fetcher, utc_now())
            pages, _ = fetch_pages(poll.entries, store, fetcher)
        articles, _ = extract_articles(pages)
        articles, _ = strip_source_templates(articles, store.articles.source_paragraph_counts)
        commit_articles(
            articles, store, load_index(store), settings.topics, settings.alerts, utc_now(), poll.fetched
        )
        deliver_alerts(store, settings.alerts, utc_now())
        store.close()
    return time.perf_counter() - start


def cli_run(workdir: Path, env: dict[str, str] | None = None) -> float:
    workdir.mkdir(exist_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "wirewatch.cli", "run"], cwd=workdir, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - start


DEPLOYMENT = "wirewatch-scheduled/wirewatch"


@contextmanager
def _process(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _wait(what: str, ready: Callable[[], bool], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {seconds:.0f} s")
        time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class ServedRun:
    picked_up_to_end: float  # from the runner's Pending (it took the run) to Completed
    flow_run: float  # the flow run's own start to end, in serve's child process


def served_runs(workdir: Path, count: int) -> tuple[list[ServedRun], float]:
    """`count` runs of the served deployment, one after the other; then the seconds of a
    `wirewatch run` (a new store) against the same server, PREFECT_API_URL set."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api_url = f"http://127.0.0.1:{port}/api"
    server_env = {**os.environ, "PREFECT_HOME": str(workdir / "server-home"), "PREFECT_UI_ENABLED": "0"}
    server_env.pop("PREFECT_API_URL", None)
    client_env = {**os.environ, "PREFECT_HOME": str(workdir / "client-home"), "PREFECT_API_URL": api_url}
    server = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    serve = [sys.executable, "-m", "wirewatch.cli", "serve"]
    with _process(server, server_env, workdir, workdir / "server.log"):
        _wait("prefect server", lambda: _answers(f"{api_url}/health"))
        with _process(serve, client_env, workdir, workdir / "serve.log"):
            _wait("wirewatch serve", lambda: b"Serving" in (workdir / "serve.log").read_bytes())
            runs = [_one_served_run(api_url) for _ in range(count)]
        return runs, cli_run(workdir / "cli-with-server", client_env)


def _one_served_run(api_url: str) -> ServedRun:
    from prefect import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        started = run_deployment(DEPLOYMENT, timeout=600, poll_interval=1)
        assert isinstance(started, FlowRun)  # called outside an event loop: the sync form
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_run(started.id)
            states = client.read_flow_run_states(flow_run.id)
    if flow_run.state is None or not flow_run.state.is_completed():
        raise SystemExit(f"served run ended {flow_run.state}")
    picked_up: datetime = min(state.timestamp for state in states if state.is_pending())
    end: datetime | None = flow_run.end_time
    start: datetime | None = flow_run.start_time
    assert start is not None and end is not None
    return ServedRun(
        picked_up_to_end=(end - picked_up).total_seconds(), flow_run=(end - start).total_seconds()
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = plain_pipeline(base / "plain.db")
        plain_again = plain_pipeline(base / "plain.db")
        (base / "cli").mkdir()
        whole = cli_run(base / "cli")
        again = cli_run(base / "cli")
        (base / "served").mkdir()
        (served, served_again), with_server = served_runs(base / "served", 2)
    rows = [
        ("pipeline stages, plain functions (baseline)", plain),
        ("pipeline stages, plain, second pass (nothing new)", plain_again),
        ("wirewatch run, first (Prefect start-up + flow)", whole),
        ("wirewatch run, second (nothing new)", again),
        ("served run, first (picked up to end)", served.picked_up_to_end),
        ("  of which the flow run itself", served.flow_run),
        ("served run, second (nothing new)", served_again.picked_up_to_end),
        ("wirewatch run with PREFECT_API_URL (running server)", with_server),
        ("wirewatch run fixed cost (first - baseline)", whole - plain),
        ("  with PREFECT_API_URL (first - baseline)", with_server - plain),
        ("served run fixed cost (first - baseline)", served.picked_up_to_end - plain),
        ("served run fixed cost (second - plain second)", served_again.picked_up_to_end - plain_again),
    ]
    print(f"{'measurement':52} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:52} {seconds:8.2f} {seconds / plain:11.1f}")


if __name__ == "__main__":
    main()
