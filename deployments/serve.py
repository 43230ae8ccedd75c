"""Serve wirewatch's flow on a schedule with Prefect: `python deployments/serve.py --interval 900`."""

from __future__ import annotations

import argparse

from flows.pipeline import run_flow
from wirewatch.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", help="wirewatch TOML config (default: the usual lookup)")
    parser.add_argument("--db", help="SQLite database (overrides the config)")
    parser.add_argument("--interval", type=int, default=900, help="seconds between runs (default 900)")
    args = parser.parse_args()
    settings = load_settings(args.config, db_override=args.db)
    run_flow.serve(name="wirewatch", interval=args.interval, parameters={"settings": settings})


if __name__ == "__main__":
    main()
