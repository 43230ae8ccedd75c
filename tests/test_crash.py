"""kill -9 at several points of a run, then another run: nothing lost, nothing doubled, feed
state consistent. The runs are real `wirewatch run` processes against the session's Prefect
server and the demo feeds on loopback."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import demo_config_text, write_config

pytestmark = pytest.mark.usefixtures("prefect_server")


def _run(config: Path, db: Path, kill_after_s: float | None = None) -> float:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wirewatch.cli", "run", "--config", str(config), "--db", str(db), "--force"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if kill_after_s is None:
        assert proc.wait(timeout=180) == 0
    else:
        try:
            proc.wait(timeout=kill_after_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    return time.monotonic() - started


def _state(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "articles": one("SELECT COUNT(*) FROM articles"),
            "distinct urls": one("SELECT COUNT(DISTINCT url) FROM articles"),
            "fingerprints": one("SELECT COUNT(*) FROM fingerprints"),
            "unclustered": one("SELECT COUNT(*) FROM articles WHERE cluster_id IS NULL"),
            "clusters": one("SELECT COUNT(*) FROM clusters WHERE merged_into IS NULL"),
            "matches": one("SELECT COUNT(*) FROM topic_matches"),
            "alerts": one("SELECT COUNT(*) FROM alerts"),
            "feeds": one("SELECT COUNT(*) FROM feeds"),
            "failing feeds": one("SELECT COUNT(*) FROM feeds WHERE consecutive_failures > 0"),
            "integrity": one("PRAGMA integrity_check"),
        }


def test_kill_9_anywhere_in_a_run_loses_and_doubles_nothing(demo_proxy: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config_text(demo_proxy))
    reference_db = tmp_path / "reference.db"
    duration = _run(config, reference_db)
    expected = _state(reference_db)
    assert expected["articles"] == 21 and expected["alerts"] == 4
    # Kill points spread over the run, from start-up to the last writes.
    for n, share in enumerate((0.45, 0.65, 0.8, 0.95)):
        db = tmp_path / f"killed{n}.db"
        _run(config, db, kill_after_s=duration * share)
        _run(config, db)  # the next run, complete
        assert _state(db) == expected, f"killed at {share:.0%} of a run"
    _run(config, db)  # and once more: nothing new
    assert _state(db) == expected


def test_two_runs_started_at_once_store_everything_once(demo_proxy: str, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    config = write_config(tmp_path, demo_config_text(demo_proxy))
    db = tmp_path / "both.db"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [
        sys.executable,
        "-m",
        "wirewatch.cli",
        "run",
        "--config",
        str(config),
        "--db",
        str(db),
        "--force",
    ]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=180)
        assert run.returncode == 0, err.decode()[-2000:]
    state = _state(db)
    assert state["articles"] == state["distinct urls"] == state["fingerprints"] == 21
    assert state["alerts"] == 4 and state["matches"] == 8 and state["integrity"] == "ok"
