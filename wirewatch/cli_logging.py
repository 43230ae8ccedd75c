"""What a pipeline command shows while it works: by default its summary and the problems it met,
once each; with --verbose every log line; on a terminal a status line of the current stage.

Prefect's console handler prints every INFO line of a flow run. A command's user wants the
summary, so by default that handler is raised above ERROR and the warnings and errors are
collected here instead: printed after the summary, each once (the summary already lists the
stages' errors), whether the stages ran as a Prefect flow or directly.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

# Quiet, offline Prefect defaults for a CLI run; the user's environment still wins. The extra
# logger makes our modules' lines part of a flow run's log (the UI shows them). A first run starts
# Prefect's ephemeral server on a new database, which it creates and migrates first: on a slow
# 2-core machine that took over Prefect's 20 s (the README's first command failed, "Timed out while
# attempting to connect to ephemeral Prefect API server"); a run started later waits less.
_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "wirewatch",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}
# Loggers whose INFO lines say how far a run has got.
_PROGRESS_LOGGERS = ("wirewatch", "prefect.flow_runs", "prefect.task_runs")
STEPS_LOGGER = "wirewatch.flows.steps"
T = TypeVar("T")


def prefect_api_url(env: dict[str, str] | None = None) -> str | None:
    """The Prefect server the user configured, read without importing Prefect (a second):
    $PREFECT_API_URL, else the active profile of Prefect's profiles file."""
    env = dict(os.environ) if env is None else env
    if env.get("PREFECT_API_URL"):
        return env["PREFECT_API_URL"]
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect")
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = env.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    url = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(url) if url else None


def prepare_prefect(verbose: bool) -> None:
    """Set Prefect's environment before it is imported (it reads its logging config then)."""
    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")


class _Problems(logging.Handler):
    """Collects warnings and errors to print after the summary."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _StatusLine(logging.Handler):
    """One line on a terminal, rewritten with each progress message and erased at the end."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.monotonic()
        self.shown = False
        self.addFilter(lambda r: r.levelno == logging.INFO and r.name.startswith(_PROGRESS_LOGGERS))

    def emit(self, record: logging.LogRecord) -> None:
        width = shutil.get_terminal_size().columns - 1
        line = f"[{time.monotonic() - self.started:4.0f} s] {record.getMessage()}"
        sys.stderr.write("\r\x1b[K" + line[:width])
        sys.stderr.flush()
        self.shown = True

    def erase(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


class Reporting:
    """Logging for one pipeline command (see the module's docstring)."""

    def __init__(self, verbose: bool, as_json: bool) -> None:
        self.verbose = verbose
        self.problems = _Problems()
        self.status = _StatusLine() if sys.stderr.isatty() and not as_json and not verbose else None

    @contextmanager
    def active(self) -> Iterator[logging.Logger]:
        """Handlers attached for the command; yields the logger of stages run directly."""
        root = logging.getLogger()
        ours = logging.getLogger("wirewatch")
        level = ours.level
        ours.setLevel(logging.INFO)
        added: list[logging.Handler] = []
        if self.verbose:
            if not root.handlers:  # Prefect's console is there when a flow runs; else ours
                verbose = logging.StreamHandler(sys.stderr)
                verbose.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
                added.append(verbose)
        else:
            added.append(self.problems)
        if self.status:
            added.append(self.status)
        for handler in added:
            root.addHandler(handler)
        try:
            yield logging.getLogger(STEPS_LOGGER)
        finally:
            for handler in added:
                root.removeHandler(handler)
            ours.setLevel(level)
            if self.status:
                self.status.erase()

    def stages(self, as_flow: Callable[[], T], directly: Callable[[logging.Logger], T]) -> T:
        """Run a command's stages: as a Prefect flow (`as_flow` imports it) when a Prefect server
        is configured, so the run shows in its UI; else in this process, without Prefect's import
        or a temporary server, logging to the logger `directly` is given."""
        if prefect_api_url():
            prepare_prefect(self.verbose)
            with self.active():
                return as_flow()
        with self.active() as log:
            return directly(log)

    def print_problems(self, already_shown: tuple[str, ...] = ()) -> None:
        """Each warning and error once, except those the summary has printed."""
        seen = set(already_shown)
        for record in self.problems.records:
            message = record.getMessage()
            if message in seen:
                continue
            seen.add(message)
            kind = "warning" if record.levelno == logging.WARNING else "error"
            click.echo(f"{kind}: {message}", err=True)
