"""Median and 95th percentile of the JSON report, timed in-process on an existing database:
computed each time, as after every commit (`responsibility_report` remembers it in between)."""
from __future__ import annotations

import json
import statistics
import sys
import time

from service.config import load_config
from service.store.db import ensure_schema, make_engine, session_factory
from service.store.report import compute_report


def main() -> None:
    config = load_config(sys.argv[1])
    runs = int(sys.argv[2])
    engine = make_engine(config.database_url)
    ensure_schema(engine)
    sessions = session_factory(engine)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        with sessions() as session:
            json.dumps(compute_report(session, config))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(json.dumps({
        "runs": runs,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(round(0.95 * runs)) - 1)], 1),
        "max_ms": round(timings[-1], 1),
    }))


if __name__ == "__main__":
    main()
