"""Scale-out: the extract tasks run on a Dask cluster (a LocalCluster here) while fetching and
the single-writer store stay in the flow's process; the result equals a local run's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import demo_config_text, write_config
from wirewatch.cli import main

pytestmark = pytest.mark.usefixtures("prefect_server")


def _clusters(db: Path) -> set[frozenset[str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT cluster_id, url FROM articles").fetchall()
    groups: dict[int, set[str]] = {}
    for cluster_id, url in rows:
        groups.setdefault(cluster_id, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def test_extract_on_a_dask_cluster_gives_the_local_result(demo_proxy: str, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    config = write_config(tmp_path, demo_config_text(demo_proxy))
    local_db, dask_db = tmp_path / "local.db", tmp_path / "dask.db"
    runner = CliRunner()
    local = runner.invoke(main, ["run", "--config", str(config), "--db", str(local_db), "--json"])
    assert local.exit_code == 0, local.output
    args = ["run", "--config", str(config), "--db", str(dask_db), "--json", "--dask-address"]
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as stream,
    ):
        result = runner.invoke(main, [*args, cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["new_articles"] == 21 and summary["errors"] == []
    assert _clusters(dask_db) == _clusters(local_db)
    ran_on_workers = {str(t["key"]) for t in stream.data}
    assert any("extract" in key for key in ran_on_workers), ran_on_workers


def test_unreachable_dask_scheduler_is_one_line(demo_proxy: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config_text(demo_proxy))
    args = [
        "run",
        "--config",
        str(config),
        "--db",
        str(tmp_path / "x.db"),
        "--dask-address",
        "tcp://127.0.0.1:9",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"), last
