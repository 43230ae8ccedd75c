"""Serving the flow on its schedule as a Prefect deployment (`wirewatch serve`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect.schedules import Cron, Interval, Schedule

from flows.pipeline import scheduled_flow
from wirewatch.config import ScheduleSettings, Settings

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


def serve(settings: Settings, db_override: str | None) -> None:
    """Block, running the flow on schedule; one run at a time (global_limit=1), so a slow run is
    never overtaken by the next one."""
    scheduled_flow.serve(
        name=DEPLOYMENT_NAME,
        schedule=build_schedule(settings.schedule),
        parameters=deployment_parameters(settings, db_override),
        global_limit=1,
        tags=["wirewatch"],
        description="Poll feeds, extract, cluster, match topics and alert.",
    )
