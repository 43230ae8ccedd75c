"""Serving the flow on its schedule as a Prefect deployment (`wirewatch serve`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from prefect.schedules import Cron, Interval, Schedule

from wirewatch.flows.pipeline import scheduled_flow
from wirewatch.flows.schedule_watch import start_schedule_watch
from wirewatch.settings import ScheduleSettings, Settings

DEPLOYMENT_NAME = "wirewatch"


def build_schedule(schedule: ScheduleSettings) -> Schedule:
    if schedule.cron:
        return Cron(schedule.cron, timezone=schedule.timezone)
    return Interval(timedelta(minutes=schedule.interval_minutes or 15), timezone=schedule.timezone)


def deployment_parameters(settings: Settings, db_override: str | None) -> dict[str, str | None]:
    """Paths, absolute so the runs find them whatever their working directory."""
    config = None if settings.is_demo else str(Path(settings.source).resolve())
    db = str(Path(db_override).resolve()) if db_override else None
    if settings.is_demo and db is None:
        db = str(Path(settings.database).resolve())
    return {"config": config, "db": db}


def serve(settings: Settings, db_override: str | None, api_url: str, echo: Callable[[str], None]) -> None:
    """Register the deployment, say when its next run is due, then block, running each scheduled
    run in a child process (Prefect's Runner); one run at a time (a concurrency limit of 1), so a
    slow run is never overtaken by the next one."""
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    runner = Runner(name=DEPLOYMENT_NAME, pause_on_shutdown=False)
    deployment_id = runner.add_flow(
        scheduled_flow,
        name=DEPLOYMENT_NAME,
        schedule=build_schedule(settings.schedule),
        parameters=deployment_parameters(settings, db_override),
        concurrency_limit=1,
        tags=["wirewatch"],
        description="Poll feeds, extract, cluster, match topics and alert.",
    )
    assert isinstance(deployment_id, UUID)  # called outside an event loop: the sync form
    full_name = f"{scheduled_flow.name}/{DEPLOYMENT_NAME}"
    echo(f"Serving {full_name} on {describe_schedule(settings.schedule)}, against {api_url}.")
    echo(f"Run it now with: prefect deployment run '{full_name}'. Ctrl-C stops serving.")
    stop_watch = start_schedule_watch(deployment_id, full_name, api_url, echo)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        echo("Stopped serving.")
    finally:
        stop_watch.set()


def describe_schedule(schedule: ScheduleSettings) -> str:
    if schedule.cron:
        return f"cron '{schedule.cron}' ({schedule.timezone})"
    return f"every {schedule.interval_minutes or 15:g} minutes"
