"""`partnerscope serve` under gunicorn, as in production: a master and two workers on a free
loopback port, `/healthz` and `/metrics` answering, request durations summed over the workers,
gunicorn's own lines in the JSON log format, and SIGTERM ending it all with status 0."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_webhook_restart import free_port, gone

ROOT = Path(__file__).resolve().parents[2]
HEALTHZ_COUNT = ("partnerscope_http_request_duration_seconds_count",
                 (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def counts(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").glob("*")
            for child in (task / "children").read_text().split()]


def forked(pid: int) -> list[int]:
    """The children that are forks of `pid` (gunicorn's workers), not processes it started afresh
    (PostgreSQL's delivery applier and multiprocessing's resource tracker)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [child for child in children(pid) if Path(f"/proc/{child}/cmdline").read_bytes() == command]


def start(db_url: str, tmp_path: Path, workers: int, *options: str, **environ: str) -> tuple[subprocess.Popen[bytes], int]:
    """`partnerscope serve` with `workers` workers on a free port, once it answers `/healthz`;
    its stdout and stderr go to serve.out and serve.err in `tmp_path`."""
    port, config = free_port(), tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[server]\nworkers = {workers}\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "PARTNERSCOPE_LOG_FORMAT")}
    with open(tmp_path / "serve.err", "wb") as err, open(tmp_path / "serve.out", "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "service.cli", *options, "--config", str(config), "serve",
                                   "--port", str(port)], cwd=ROOT, env=env | environ, stdout=out, stderr=err)
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, (tmp_path / "serve.err").read_text()[-3000:]
        assert time.monotonic() < deadline, "serve did not answer within 60 s"
        try:
            if get(port, "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.1)


def test_serve_runs_two_workers_sums_their_metrics_and_stops_on_sigterm(db_url: str, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = scratch / f"partnerscope-metrics-{dead.stdout.strip()}-left"  # a killed master's, to be swept
    (killed / "histogram_1.db").parent.mkdir()
    (killed / "histogram_1.db").write_bytes(b"")
    server, port = start(db_url, tmp_path, 2, "--debug", PARTNERSCOPE_LOG_FORMAT="json", TMPDIR=str(scratch))
    log, printed = tmp_path / "serve.err", tmp_path / "serve.out"
    try:
        deadline = time.monotonic() + 60
        while len(workers := forked(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = children(server.pid)
        assert len(workers) == 2
        if db_url.startswith("postgresql"):  # the one delivery applier, the master's
            assert len(started) > 2
        (figures,) = scratch.glob("partnerscope-metrics-*")
        assert figures.name.startswith(f"partnerscope-metrics-{server.pid}-")
        sent = 1
        with ThreadPoolExecutor(8) as pool:  # until each worker has answered some: both keep figures
            while not all((figures / f"histogram_{pid}.db").exists() for pid in workers) and sent < 2000:
                statuses = list(pool.map(lambda _: get(port, "/healthz")[0], range(100)))
                assert set(statuses) == {200}
                sent += len(statuses)
        assert all((figures / f"histogram_{pid}.db").exists() for pid in workers), "one worker answered everything"
        for _ in range(6):  # whichever worker answers the scrape, it counts both workers' requests
            status, text = get(port, "/metrics")
            assert status == 200 and counts(text)[HEALTHZ_COUNT] == sent
            assert counts(text)[("partnerscope_database_up", ())] == 1
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert gone(started) and not figures.exists()
    assert f"serving on http://127.0.0.1:{port}/" in printed.read_text()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all({"timestamp", "level", "logger", "event"} <= set(line) for line in lines)
    assert any(line["logger"] == "gunicorn.error" and line["event"].startswith("Booting worker") for line in lines)


def test_serve_stops_on_ctrl_c_and_speaks_text_by_default(db_url: str, tmp_path: Path) -> None:
    server, port = start(db_url, tmp_path, 1)
    try:
        assert get(port, "/metrics")[0] == 200
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert (tmp_path / "serve.out").read_text().splitlines() == [f"serving on http://127.0.0.1:{port}/ (Ctrl+C to stop)"]
    errors = (tmp_path / "serve.err").read_text().splitlines()
    assert "no users yet: add one with `partnerscope users add NAME --role admin` to log in" in errors
    assert not any(line.startswith("{") or "Traceback" in line for line in errors)
