"""`wirewatch serve` is never silent: it says when the next scheduled run is due, or that the
Prefect server has scheduled none (its scheduler service is down or failing), and keeps serving.

A served deployment depends on the server's scheduler to create its runs; when that service
breaks (as prefect 3.8's did on SQLAlchemy 2.1) the runner polls forever and finds nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

# Two periods: the scheduler fills a new deployment's runs on its next loop at the latest.
PERIODS_BEFORE_WARNING = 2


@dataclass(frozen=True)
class NextRun:
    flow_run_name: str
    due: datetime


def scheduler_period_s() -> float:
    """The server's scheduler loop, as configured where `serve` runs (Prefect's default is 60 s)."""
    from prefect.settings import get_current_settings

    return float(get_current_settings().server.services.scheduler.loop_seconds)


def next_scheduled_run(deployment_id: UUID) -> NextRun | None:
    """The earliest run in state Scheduled that the server holds for the deployment."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=1,
        )
    if not runs or runs[0].expected_start_time is None:
        return None
    return NextRun(flow_run_name=runs[0].name, due=runs[0].expected_start_time)


def describe_next_run(run: NextRun, now: datetime) -> str:
    wait_s = max(0, round((run.due - now).total_seconds()))
    return f"Next scheduled run: {run.due:%Y-%m-%d %H:%M:%S %Z} (in {wait_s} s)."


def describe_missing_runs(deployment: str, waited_s: float, api_url: str) -> str:
    return (
        f"No scheduled run of {deployment} after {waited_s:.0f} s (two scheduler periods) on "
        f"{api_url}: check the Prefect server's log. Still serving."
    )


def watch_schedule(
    deployment_id: UUID,
    deployment: str,
    api_url: str,
    echo: Callable[[str], None],
    stop: threading.Event,
    period_s: float | None = None,
) -> None:
    """Report the next run once; warn once when none appears in time, and report it if one
    appears later. Errors talking to the server are only retried: the runner reports its own."""
    period = scheduler_period_s() if period_s is None else period_s
    poll_s = max(0.5, min(5.0, period / 4))
    started = time.monotonic()
    warned = False
    while not stop.is_set():
        try:
            upcoming = next_scheduled_run(deployment_id)
        except Exception:  # the server is restarting or unreachable; the runner says so too
            upcoming = None
        if upcoming is not None:
            echo(describe_next_run(upcoming, datetime.now(UTC)))
            return
        waited = time.monotonic() - started
        if not warned and waited >= PERIODS_BEFORE_WARNING * period:
            echo(describe_missing_runs(deployment, waited, api_url))
            warned = True
        stop.wait(poll_s)


def start_schedule_watch(
    deployment_id: UUID, deployment: str, api_url: str, echo: Callable[[str], None]
) -> threading.Event:
    """Watch in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_schedule,
        args=(deployment_id, deployment, api_url, echo, stop),
        name="wirewatch-schedule-watch",
        daemon=True,
    )
    thread.start()
    return stop
