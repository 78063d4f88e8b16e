"""`make bench`: each case runs its tool as a separate process against the same fake server.

Every case records wall seconds, CPU seconds and peak RSS of the measured process (from
`wait4`'s rusage, so children's own figures, not the harness's) and the requests the fake
server counted by endpoint. Results go to bench/results.json and a Markdown table on stdout.
Pairs (Partnerscope, Perceval) run in the same invocation so their ratios hold on a noisy machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PARTNERSCOPE = [PYTHON, "-m", "service.cli"]
EMAIL, TOKEN = "partnerscope@acme.example", "fake-jira-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
            log: Path | None = None, expect: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run `cmd` to completion; its own wall/CPU seconds and peak RSS (MB). Other exit codes than `expect` raise."""
    out = open(log or os.devnull, "wb")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        tail = log.read_text(errors="replace")[-2000:] if log else ""
        raise RuntimeError(f"{' '.join(cmd[:4])}… exited {code}\n{tail}")
    return {"wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


class FakeServer:
    """`python -m simulator jira …` in its own process, so it never competes with the measured tool's GIL."""

    def __init__(self, kind: str, tickets: int, latency_ms: float, workdir: Path, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{kind}-server.log"
        self.cmd = [PYTHON, "-m", "simulator", kind, "--port", str(self.port), "--tickets", str(tickets),
                    "--latency-ms", str(latency_ms), *extra]

    def __enter__(self) -> FakeServer:
        self.proc = subprocess.Popen(self.cmd, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fake server died: {self.log.read_text()[-2000:]}")
            try:
                self.stats()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("fake server did not come up within 300 s")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=5) as response:
            return json.load(response)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/_stats/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=5).close()


def requests_of(stats: dict[str, Any]) -> tuple[int, dict[str, int]]:
    by_endpoint = stats.get("by_endpoint") or stats.get("requests_by_endpoint") or {}
    total = stats.get("total", stats.get("requests", sum(by_endpoint.values())))
    return int(total), dict(sorted(by_endpoint.items()))


def write_config(workdir: Path, name: str, source: str = "") -> Path:
    from simulator.people import scenario_toml

    db = workdir / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    path = workdir / f"{name}.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{db}"\n\n{scenario_toml()}\n{source}', encoding="utf-8")
    return path


def jira_source(url: str, deployment: str) -> str:
    return (f'[[sources]]\nname = "bench-jira"\nkind = "jira"\nurl = "{url}"\ndeployment = "{deployment}"\n'
            f'jql = "project in (SHOP, PAY)"\nemail = "{EMAIL}"\ntoken_env = "BENCH_JIRA_TOKEN"\n'
            'start = 2020-01-01\n')


def case_jira_pair(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    with FakeServer("jira", args.jira_tickets, args.latency_ms, workdir) as server:
        config = write_config(workdir, "jira_sync", jira_source(server.url, "cloud"))
        env = dict(os.environ, BENCH_JIRA_TOKEN=TOKEN)
        server.reset()
        ours = measure(PARTNERSCOPE + ["--config", str(config), "sync"], env=env, cwd=ROOT,
                       log=workdir / "jira_sync.log")
        ours["requests"], ours["requests_by_endpoint"] = requests_of(server.stats())
        ours["tickets"] = args.jira_tickets
        ours["output"] = (workdir / "jira_sync.log").read_text().strip().splitlines()[-1]
        results["jira_sync"] = ours
        results["jira_incremental"] = incremental_syncs(server, config, env, workdir)
        if not args.perceval:
            results["perceval_jira"] = {"skipped": "no perceval executable given (--perceval)"}
            return
        server.reset()
        theirs = measure([args.perceval, "jira", server.url, "--no-archive", "--from-date", "2020-01-01",
                          "-u", EMAIL, "-p", TOKEN, "-o", str(workdir / "perceval_jira.json")],
                         cwd=workdir, log=workdir / "perceval_jira.log")
        theirs["requests"], theirs["requests_by_endpoint"] = requests_of(server.stats())
        theirs["tickets"] = _json_lines(workdir / "perceval_jira.json")
        results["perceval_jira"] = theirs
        for key in ("requests", "wall_s"):
            ours[f"{key.split('_')[0]}_ratio"] = round(theirs[key] / ours[key], 2) if ours[key] else None


def incremental_syncs(server: FakeServer, config: Path, env: dict[str, str], workdir: Path, rounds: int = 3,
                      changed: int = 5) -> dict[str, Any]:
    """Requests of incremental syncs after `changed` tickets changed, `rounds` times: what the
    index lag's window and the `reconcileIssues` reads of recent changes cost a steady sync."""
    each, walls = [], []
    for _ in range(rounds):
        body = json.dumps({"count": changed}).encode()
        touch = urllib.request.Request(f"{server.url}/_touch", method="POST", data=body,
                                       headers={"Content-Type": "application/json"})
        urllib.request.urlopen(touch, timeout=10).close()
        server.reset()
        run = measure(PARTNERSCOPE + ["--config", str(config), "sync"], env=env, cwd=ROOT,
                      log=workdir / "jira_incremental.log")
        each.append(requests_of(server.stats())[0])
        walls.append(run["wall_s"])
    return {"tickets": changed, "requests": max(each), "requests_each": each, "wall_s": max(walls)}


def _json_lines(path: Path) -> int:
    """Perceval writes one pretty-printed JSON object per item; count the top-level objects."""
    decoder, text, count, index = json.JSONDecoder(), path.read_text(), 0, 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return count
        _, index = decoder.raw_decode(text, index)
        count += 1


GITHUB_TOKEN = "fake-github-token"
GITHUB_REPOS = ("acme/webshop", "acme/payments")


def toml_tables(data: dict[str, Any]) -> str:
    """The arrays of tables of a scenario config ([[organisations]], …) as TOML text."""
    def value(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, str):
            return json.dumps(v)
        return str(v)  # dates and numbers are TOML literals as they print

    lines = []
    for table, rows in data.items():
        for row in rows:
            lines.append(f"[[{table}]]")
            lines.extend(f"{key} = {value(v)}" for key, v in row.items())
            lines.append("")
    return "\n".join(lines)


def case_github_pair(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    from simulator.github_people import github_scenario_config

    # GitHub's real budget is 5,000 requests an hour; Perceval alone needs more than that here,
    # and waiting an hour measures nothing, so the fake's budget is raised for both tools.
    with FakeServer("github", args.github_tickets, args.latency_ms, workdir, ("--rate-limit", "1000000/3600")) as server:
        db = workdir / "github_sync.db"
        config = workdir / "github_sync.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{db}"\n\n{toml_tables(github_scenario_config())}\n'
            f'[[sources]]\nname = "bench-github"\nkind = "github"\nrepos = {json.dumps(list(GITHUB_REPOS))}\n'
            f'base_url = "{server.url}/api/v3"\ntoken_env = "BENCH_GITHUB_TOKEN"\n', encoding="utf-8")
        env = dict(os.environ, BENCH_GITHUB_TOKEN=GITHUB_TOKEN)
        server.reset()
        ours = measure(PARTNERSCOPE + ["--config", str(config), "sync"], env=env, cwd=ROOT,
                       log=workdir / "github_sync.log")
        ours["requests"], ours["requests_by_endpoint"] = requests_of(server.stats())
        ours["tickets"] = args.github_tickets
        ours["output"] = (workdir / "github_sync.log").read_text().strip().splitlines()[-1]
        results["github_sync"] = ours
        if not args.perceval:
            results["perceval_github"] = {"skipped": "no perceval executable given (--perceval)"}
            return
        # Perceval reads one repository and one category per run; its figures are the sum.
        # `items`: what Perceval wrote (its issue category lists pull requests as issues too).
        theirs = {"wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mb": 0.0, "requests": 0, "tickets": args.github_tickets,
                  "items": 0, "requests_by_endpoint": {}}
        server.reset()
        for repo in GITHUB_REPOS:
            owner, name = repo.split("/")
            for category in ("issue", "pull_request"):
                out = workdir / f"perceval_github_{name}_{category}.json"
                run = measure([args.perceval, "github", owner, name, "--category", category,
                               "--api-token", GITHUB_TOKEN, "--enterprise-url", server.url, "--no-archive",
                               "--sleep-for-rate", "--from-date", "2020-01-01", "-o", str(out)],
                              cwd=workdir, log=workdir / f"perceval_github_{name}_{category}.log")
                theirs["wall_s"] = round(theirs["wall_s"] + run["wall_s"], 3)
                theirs["cpu_s"] = round(theirs["cpu_s"] + run["cpu_s"], 3)
                theirs["peak_rss_mb"] = max(theirs["peak_rss_mb"], run["peak_rss_mb"])
                theirs["items"] += _json_lines(out)
        theirs["requests"], theirs["requests_by_endpoint"] = requests_of(server.stats())
        results["perceval_github"] = theirs
        for key in ("requests", "wall_s"):
            ours[f"{key.split('_')[0]}_ratio"] = round(theirs[key] / ours[key], 2) if ours[key] else None


def case_ingest(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    from simulator.scenario import write_export

    export = workdir / "export"
    files = write_export(export, tickets=args.ingest_tickets)
    config = write_config(workdir, "ingest")
    run = measure(PARTNERSCOPE + ["--config", str(config), "import", "jira", *map(str, files), "--source", "bench"],
                  cwd=ROOT, log=workdir / "ingest.log")
    run.update(tickets=args.ingest_tickets, requests=0,
               tickets_per_s=round(args.ingest_tickets / run["wall_s"], 1),
               output=(workdir / "ingest.log").read_text().strip().splitlines()[-1])
    results["ingest_throughput"] = run


def case_exports(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    from bench.import_memory import case_exports as run_case

    configs = (write_config(workdir, "exports"), write_config(workdir, "exports-refused"),
               write_config(workdir, "exports-github"))
    run_case(measure, PARTNERSCOPE, configs, workdir, args.export_mb, args.github_export_tickets, ROOT, results)


def case_reclassify_and_report(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    config = write_config(workdir, "large")
    build = measure(PARTNERSCOPE + ["--config", str(config), "demo", "--tickets", str(args.large_tickets)],
                    cwd=ROOT, log=workdir / "large-build.log")
    run = measure(PARTNERSCOPE + ["--config", str(config), "classify"], cwd=ROOT, log=workdir / "reclassify.log")
    output = (workdir / "reclassify.log").read_text().strip().splitlines()[-1]
    run.update(tickets=args.large_tickets, requests=0, output=output, build_wall_s=build["wall_s"])
    results["reclassify"] = run
    timing = subprocess.run([PYTHON, "-m", "bench.report_timing", str(config), str(args.report_runs)],
                            cwd=ROOT, check=True, capture_output=True, text=True)
    report = json.loads(timing.stdout)
    report.update(tickets=args.large_tickets, requests=0, database="sqlite")
    results["report"] = report


def case_report_postgres(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    from bench.report_cases import report_on_postgres

    report_on_postgres(args, workdir, results, measure, PARTNERSCOPE, PYTHON, case="report_postgres",
                       tickets=args.large_tickets)


def case_scale(args: argparse.Namespace, workdir: Path, results: dict[str, Any]) -> None:
    from bench.report_cases import report_on_postgres

    report_on_postgres(args, workdir, results, measure, PARTNERSCOPE, PYTHON, case="scale",
                       tickets=args.scale_tickets)


def table(results: dict[str, Any]) -> str:
    lines = ["| case | tickets | requests | wall s | CPU s | peak RSS MB | notes |", "|---|---:|---:|---:|---:|---:|---|"]
    for name, r in results.items():
        if "skipped" in r:
            lines.append(f"| {name} | | | | | | skipped: {r['skipped']} |")
            continue
        if "pages" in r:
            from bench.dashboard_case import table_rows

            lines.extend(table_rows(name, r))
            continue
        if "ack_ms" in r or "acknowledged_ids" in r:
            from bench.hooks_case import table_row

            lines.append(f"| {name} | " + " | ".join(table_row(r)) + " |")
            continue
        notes = []
        for key in ("requests_ratio", "wall_ratio", "tickets_per_s", "median_ms", "p95_ms", "file_mb", "requests_each"):
            if key in r:
                notes.append(f"{key} {r[key]}")
        lines.append(f"| {name} | {r.get('tickets', '')} | {r.get('requests', '')} | {r.get('wall_s', '')} | "
                     f"{r.get('cpu_s', '')} | {r.get('peak_rss_mb', '')} | {', '.join(notes)} |")
    return "\n".join(lines)


def main() -> None:
    from bench.dashboard_case import dashboard_arguments
    from bench.hooks_case import webhook_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perceval", help="path of the perceval executable (in its own venv)")
    parser.add_argument("--cases", default="jira,github,ingest,exports,large",
                        help="comma-separated: jira, github, ingest, exports, large; opt-in: webhooks (about "
                             "3 minutes), dashboard (the pages under 8 clients at 100,000 tickets; dashboard_postgres "
                             "on PostgreSQL), report_postgres (the 100,000-ticket report on PostgreSQL) and scale "
                             "(1,000,000 tickets on PostgreSQL)")
    parser.add_argument("--github-tickets", type=int, default=2000)
    parser.add_argument("--jira-tickets", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=10)
    parser.add_argument("--ingest-tickets", type=int, default=20000)
    parser.add_argument("--large-tickets", type=int, default=100000)
    parser.add_argument("--export-mb", type=int, default=200, help="size of the one-file Jira export (MB)")
    parser.add_argument("--github-export-tickets", type=int, default=3500, help="tickets of the GitHub export")
    parser.add_argument("--report-runs", type=int, default=40)
    parser.add_argument("--scale-tickets", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default=os.environ.get("PARTNERSCOPE_BENCH_POSTGRES_URL",
                                                                  "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server where the benchmark may create and drop its own databases")
    webhook_arguments(parser)
    dashboard_arguments(parser)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    if args.perceval:
        args.perceval = os.path.abspath(args.perceval)  # the cases run in a scratch directory
    cases = set(args.cases.split(","))
    results: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="partnerscope-bench-") as tmp:
        workdir = Path(tmp)
        if "jira" in cases:
            case_jira_pair(args, workdir, results)
        if "github" in cases:
            case_github_pair(args, workdir, results)
        if "ingest" in cases:
            case_ingest(args, workdir, results)
        if "exports" in cases:
            case_exports(args, workdir, results)
        if "large" in cases:
            case_reclassify_and_report(args, workdir, results)
        if "report_postgres" in cases:
            case_report_postgres(args, workdir, results)
        if "scale" in cases:
            case_scale(args, workdir, results)
        if "webhooks" in cases:
            from bench.hooks_case import case_webhooks

            case_webhooks(PARTNERSCOPE, args, workdir, results, free_port, ROOT)
        if "dashboard" in cases:  # after `large`, whose database it reuses when both run
            from bench.dashboard_case import case_dashboard

            case_dashboard(args, workdir, results, PARTNERSCOPE, measure, free_port, ROOT)
        if "dashboard_postgres" in cases:
            from bench.dashboard_case import case_dashboard_postgres

            case_dashboard_postgres(args, workdir, results, PARTNERSCOPE, measure, free_port, ROOT)
    document = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "seconds": round(time.monotonic() - started, 1),
        "cases": results,
    }
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\n(results in {args.out}; the whole benchmark took {document['seconds']} s)")


if __name__ == "__main__":
    main()
