"""The report at scale: `report_postgres` (the 100,000-ticket report on PostgreSQL, beside the
SQLite one of case `large`) and `scale` (1,000,000 tickets on PostgreSQL, opt-in).

Each builds the demo into a database of its own on the PostgreSQL server named by
`--postgres-url` (created and dropped here), analyzes it as autovacuum would after a bulk load,
then times the JSON report in a process of its own: median and 95th percentile over repeated
runs, and that process's peak RSS.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]


def _server(url: str) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    try:
        with psycopg.connect(url, connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {url}: {str(exc).strip().splitlines()[0]}"


def _database(admin_url: str, name: str, create: bool) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def report_on_postgres(args: argparse.Namespace, workdir: Path, results: dict[str, Any], measure: Callable[..., dict],
                       partnerscope: list[str], python: str, *, case: str, tickets: int) -> None:
    problem = _server(args.postgres_url)
    if problem:
        results[case] = {"skipped": problem}
        return
    from simulator.people import scenario_toml

    name = f"partnerscope_bench_{case}"
    url = _database(args.postgres_url, name, create=True)
    try:
        config = workdir / f"{case}.toml"
        config.write_text(f'[database]\nurl = "{url}"\n\n{scenario_toml()}\n', encoding="utf-8")
        build = measure(partnerscope + ["--config", str(config), "demo", "--tickets", str(tickets)],
                        cwd=ROOT, log=workdir / f"{case}-build.log")
        # What autovacuum does within a minute of a bulk load: planner statistics for the new rows.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        timing_log = workdir / f"{case}-report.log"
        run = measure([python, "-m", "bench.report_timing", str(config), str(args.report_runs)],
                      cwd=ROOT, log=timing_log)
        report = json.loads(timing_log.read_text().strip().splitlines()[-1])
        report.update(tickets=tickets, requests=0, database="postgresql", build_wall_s=build["wall_s"],
                      build_peak_rss_mb=build["peak_rss_mb"], peak_rss_mb=run["peak_rss_mb"],
                      wall_s=run["wall_s"], cpu_s=run["cpu_s"])
        results[case] = report
    finally:
        _database(args.postgres_url, name, create=False)
