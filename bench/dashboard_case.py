"""The `dashboard` case (issue 10, "Speed"): the pages people open, answered by `partnerscope
serve` over a 100,000-ticket demo database while 8 logged-in clients ask at once.

The database is the one case `large` built in the same run when there is one, else the demo
database at `--dashboard-db` when it holds the tickets asked for, else a new demo build (there,
or in the run's scratch directory); the results say which. A user is added through the
command line and each client logs in through the form (`GET /login` for the CSRF token, then
`POST /login`), so every request carries a session cookie of its own, as a browser's would.

Then, page by page: a warm-up (two requests per client), and `--dashboard-requests` requests
from `--dashboard-clients` clients, each sending its next request as soon as the last one is
answered (closed loop, keep-alive). Latency is from sending a request to having read its whole
answer; anything but a 200 counts as an error. Per page: p50, p95, p99 and max, requests a
second, the server's CPU per request and its resident memory afterwards, and how busy the rest
of the machine was meanwhile (`others_cores`: CPU cores that neither the server nor the clients
used, from /proc/stat), since on a shared machine that moves every figure.

`dashboard_postgres` (opt-in; it builds its own 100,000-ticket database, a few minutes more)
does the same on a PostgreSQL database `bench_dashboard`, made, analyzed and dropped on the
server `--postgres-admin-url` names; there the queries' CPU is the postgres processes', counted
apart (every postgres process of the machine, so another user of that server adds to it; a
parallel worker that starts and ends within a page's run is missed, and counts as others').
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import resource
import secrets
import subprocess
import threading
import time
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from sqlalchemy import func, select, text

from bench.hooks_send import percentile
from bench.hooks_server import HOST, Served, postgres_answers, recreate_database
from service.store.db import make_engine, session_factory
from service.store.models import Attribution, Ticket

TARGET_P95_MS = 300.0  # issue 10: every measured page under this at 100,000 tickets
TIMEOUT = 60.0


def dashboard_arguments(parser: argparse.ArgumentParser) -> None:
    """The case's options of `python -m bench.run`."""
    parser.add_argument("--dashboard-tickets", type=int, default=100_000, help="tickets of the dashboard's database")
    parser.add_argument("--dashboard-clients", type=int, default=8, help="logged-in clients asking at once")
    parser.add_argument("--dashboard-requests", type=int, default=400, help="measured requests per page")
    parser.add_argument("--dashboard-db", help="a demo SQLite database to reuse when it holds --dashboard-tickets "
                                               "tickets, else to build there and keep")


def pages(facts: dict[str, Any]) -> list[tuple[str, bool, Callable[[random.Random], str]]]:
    """The measured pages: (name, whether issue 10's target applies, a function giving the next
    request's path). The scorecard and the area pages are remembered while nothing is committed
    (`service.store.memo`); their rows with a different day each request show what computing
    them afresh costs under the same load."""
    since = facts["since"]

    def fixed(path: str, **query: str) -> Callable[[random.Random], str]:
        url = path + ("?" + urlencode(query) if query else "")
        return lambda rng: url

    def any_day(path: str) -> Callable[[random.Random], str]:
        return lambda rng: f"{path}?{urlencode({'since': rng.choice(facts['days'])})}"

    ids = facts["ticket_ids"]
    return [
        ("scorecard", True, fixed("/")),
        ("scorecard project+since", True, fixed("/", project=facts["project"], since=since)),
        ("scorecard, a new since each request", False, any_day("/")),
        ("area quality_assurance", True, fixed("/areas/quality_assurance")),
        ("area deployment", True, fixed("/areas/deployment")),
        ("area quality_assurance, a new since each request", False, any_day("/areas/quality_assurance")),
        ("ticket", True, lambda rng: f"/tickets/{rng.choice(ids)}"),
        ("list", True, fixed("/tickets")),
        ("list area+side", True, fixed("/tickets", area="quality_assurance", side="partner")),
        ("list role", True, fixed("/tickets", role="deploy")),
        ("list project+since", True, fixed("/tickets", project=facts["project"], since=since)),
        ("list q", True, fixed("/tickets", q=facts["word"])),
    ]


def database_facts(url: str) -> dict[str, Any]:
    """What the page list needs from the database: ticket ids, a project, a recent day, a title word."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            ids = list(s.scalars(select(Ticket.id).where(Ticket.deleted_at.is_(None))))
            project = s.scalar(select(Ticket.project).group_by(Ticket.project).order_by(func.count().desc()).limit(1))
            latest = s.scalar(select(func.max(Attribution.at)))
            titles = s.scalars(select(Ticket.title).order_by(Ticket.id).limit(2000)).all()
    finally:
        engine.dispose()
    words: dict[str, int] = {}
    for title in titles:
        for word in re.findall(r"[a-z]{6,}", title.lower()):
            words[word] = words.get(word, 0) + 1
    # A word that a few per cent of titles carry: a search that finds some pages of tickets, not all.
    ranked = sorted(words, key=lambda w: (abs(words[w] - len(titles) // 30), w))
    last = latest.date() if latest else date(2025, 1, 1)
    return {"ticket_ids": ids, "project": project, "word": ranked[0] if ranked else "error",
            "since": (last - timedelta(days=90)).isoformat(),
            "days": [(last - timedelta(days=n)).isoformat() for n in range(540)]}


def tickets_in(path: Path) -> int:
    """Tickets stored in the SQLite database at `path` (0 when it is missing or not one of ours)."""
    if not path.exists():
        return 0
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Ticket.__table__)) or 0
    except Exception:  # an empty or foreign file: build afresh
        return 0
    finally:
        engine.dispose()


def prepare_database(args: argparse.Namespace, workdir: Path,
                     measure: Callable[..., dict[str, Any]], command: list[str], root: Path) -> tuple[Path, dict[str, Any]]:
    """The config of a demo database with the tickets asked for, and where that database came from."""
    from simulator.people import scenario_toml

    large = workdir / "large.db"
    if (workdir / "large.toml").exists() and tickets_in(large) == args.dashboard_tickets:
        db, origin = large, {"database_from": "case large of this run"}
    elif args.dashboard_db and tickets_in(Path(args.dashboard_db)) == args.dashboard_tickets:
        db = Path(args.dashboard_db).resolve()
        origin = {"database_from": f"kept at {db}, built "
                  f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(db.stat().st_mtime))} or earlier"}
    else:
        db = Path(args.dashboard_db).resolve() if args.dashboard_db else workdir / "dashboard.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        origin = {"database_from": f"built for this run at {db}"}
    config = workdir / "dashboard.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n\n{scenario_toml()}\n', encoding="utf-8")
    if origin["database_from"].startswith("built"):
        build = measure(command + ["--config", str(config), "demo", "--tickets", str(args.dashboard_tickets)],
                        cwd=root, log=workdir / "dashboard-build.log")
        origin["build_wall_s"] = build["wall_s"]
    return config, origin


class Client:
    """One browser: a keep-alive connection and the session cookie its login gave it."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            answer = self.connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request opens a new connection
            raise
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if answer.will_close:
            self.connection.close()
        return answer.status, data

    def log_in(self, user: str, password: str) -> None:
        status, form = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', form)
        if status != 200 or token is None:
            raise RuntimeError(f"the login form answered {status} without a CSRF token")
        body = urlencode({"csrf_token": token.group(1).decode(), "next": "/", "username": user,
                          "password": password}).encode()
        status, _ = self.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "session" not in self.cookies:
            raise RuntimeError(f"logging in answered {status}, not a redirect with a session")


def _machine_busy_s() -> float:
    """CPU seconds all cores of the machine have been busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu_s() -> dict[int, float]:
    """CPU seconds each process of the PostgreSQL server on this machine has used, by process id."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
        except OSError:  # gone meanwhile
            continue
        if head.endswith("(postgres"):
            fields = rest.split()
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _used_since(before: dict[int, float]) -> float:
    """CPU seconds the postgres processes used since `before`; those that ended meanwhile are lost."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in _postgres_cpu_s().items())


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure_page(clients: list[Client], served: Served, path_of: Callable[[random.Random], str], requests: int,
                 seed: int, postgres: bool = False) -> dict[str, Any]:
    """Warm up, then `requests` requests from every client at once (closed loop); the figures."""
    rngs = [random.Random(seed * 1000 + n) for n in range(len(clients))]
    for client, rng in zip(clients, rngs):
        for _ in range(2):
            client.request("GET", path_of(rng))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    examples: list[str] = []
    lock = threading.Lock()
    left = iter(range(requests))

    def work(client: Client, rng: random.Random) -> None:
        while True:
            with lock:
                if next(left, None) is None:
                    return
            path = path_of(rng)
            sent = time.perf_counter()
            try:
                status, body = client.request("GET", path)
                outcome = str(status)
            except (OSError, http.client.HTTPException) as exc:
                status, body, outcome = 0, b"", type(exc).__name__
            took = (time.perf_counter() - sent) * 1000
            with lock:
                latencies.append(took)
                statuses[outcome] = statuses.get(outcome, 0) + 1
                if status != 200 and len(examples) < 3:
                    examples.append(f"{path} -> {outcome}: {body[:120]!r}")

    threads = [threading.Thread(target=work, args=(c, r), daemon=True) for c, r in zip(clients, rngs)]
    server_cpu, own_cpu, busy, load = served.cpu_s(), _own_cpu_s(), _machine_busy_s(), os.getloadavg()[0]
    database_before = _postgres_cpu_s() if postgres else {}
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server_cpu = served.cpu_s() - server_cpu
    database_cpu = _used_since(database_before) if postgres else 0.0
    others = _machine_busy_s() - busy - server_cpu - database_cpu - (_own_cpu_s() - own_cpu)
    assert served.proc is not None
    return {
        "example": path_of(random.Random(seed)), "requests": len(latencies),
        "errors": len(latencies) - statuses.get("200", 0), "status": dict(sorted(statuses.items())),
        "error_examples": examples,
        **{f"p{int(p * 100)}_ms": _ms(percentile(latencies, p)) for p in (0.5, 0.95, 0.99)},
        "max_ms": _ms(max(latencies)), "rps": round(len(latencies) / wall, 1), "wall_s": round(wall, 2),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / len(latencies), 1),
        # on PostgreSQL the queries run in its processes: every postgres process of this machine
        **({"postgres_cpu_ms_per_request": round(database_cpu * 1000 / len(latencies), 1)} if postgres else {}),
        "server_rss_mb": _rss_mb(served.proc.pid),
        "others_cores": round(max(0.0, others) / wall, 2),  # the rest of the machine's use, in cores
        "load_1min_before": round(load, 2),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def case_dashboard(args: argparse.Namespace, workdir: Path, results: dict[str, Any], command: list[str],
                   measure: Callable[..., dict[str, Any]], free_port: Callable[[], int], root: Path) -> None:
    """Serve the 100,000-ticket SQLite database, log the clients in and measure each page."""
    config, origin = prepare_database(args, workdir, measure, command, root)
    results["dashboard_sqlite"] = serve_and_measure(args, workdir, config, "sqlite", origin, command, free_port, root)


def case_dashboard_postgres(args: argparse.Namespace, workdir: Path, results: dict[str, Any], command: list[str],
                            measure: Callable[..., dict[str, Any]], free_port: Callable[[], int], root: Path) -> None:
    """The same on PostgreSQL: a database `bench_dashboard` built, analyzed, measured and dropped."""
    from simulator.people import scenario_toml

    why_not = postgres_answers(args.postgres_admin_url)
    if why_not is not None:
        results["dashboard_postgresql"] = {"skipped": f"no PostgreSQL server answers at {args.postgres_admin_url} "
                                                      f"({why_not})"}
        return
    url = recreate_database(args.postgres_admin_url, "bench_dashboard")
    try:
        config = workdir / "dashboard-pg.toml"
        config.write_text(f'[database]\nurl = "{url}"\n\n{scenario_toml()}\n', encoding="utf-8")
        build = measure(command + ["--config", str(config), "demo", "--tickets", str(args.dashboard_tickets)],
                        cwd=root, log=workdir / "dashboard-pg-build.log")
        engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        try:  # what autovacuum does within a minute of a bulk load: planner statistics for the new rows
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
        finally:
            engine.dispose()
        origin = {"database_from": "built for this run", "build_wall_s": build["wall_s"]}
        results["dashboard_postgresql"] = serve_and_measure(args, workdir, config, "postgresql", origin, command,
                                                            free_port, root)
    finally:
        recreate_database(args.postgres_admin_url, "bench_dashboard", drop_only=True)


def serve_and_measure(args: argparse.Namespace, workdir: Path, config: Path, database: str, origin: dict[str, Any],
                      command: list[str], free_port: Callable[[], int], root: Path) -> dict[str, Any]:
    """Add a user, serve `config`'s database, log the clients in and measure each page."""
    env = dict(os.environ, PARTNERSCOPE_SECRET_KEY=secrets.token_hex(32))
    # A user of its own each run: a kept database may hold the last run's, whose password is gone.
    user, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with open(workdir / f"dashboard-{database}-users.log", "ab") as out:
        subprocess.run(command + ["--config", str(config), "users", "add", user, "--role", "viewer"],
                       input=(password + "\n").encode(), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root,
                       check=True)
    facts = database_facts(config.read_text(encoding="utf-8").split('"', 2)[1])
    port = free_port()
    served = Served(command, config, port, env, workdir / f"dashboard-{database}-serve.log", root).start(within=300)
    figures: dict[str, Any] = {"tickets": args.dashboard_tickets, "database": database, **origin,
                               "clients": args.dashboard_clients, "target_p95_ms": TARGET_P95_MS,
                               "cpus": os.cpu_count(), "pages": {}}
    try:
        clients = [Client(port) for _ in range(args.dashboard_clients)]
        for client in clients:
            client.log_in(user, password)
        for n, (name, target, path_of) in enumerate(pages(facts)):
            figures["pages"][name] = {"target": target,
                                      **measure_page(clients, served, path_of, args.dashboard_requests, n,
                                                     postgres=database == "postgresql")}
    finally:
        figures["server"] = served.stop()
    figures["errors"] = sum(p["errors"] for p in figures["pages"].values())
    figures["slower_than_target"] = [name for name, p in figures["pages"].items()
                                     if p["target"] and (p["p95_ms"] is None or p["p95_ms"] > TARGET_P95_MS)]
    return figures


def table_rows(name: str, r: dict[str, Any]) -> list[str]:
    """The case's rows of the Markdown table, one per page."""
    server = r.get("server", {})
    rows = [f"| {name} | {r['tickets']} | {sum(p['requests'] for p in r['pages'].values())} | | "
            f"{server.get('cpu_s', '')} | {server.get('peak_rss_mb', '')} | {r['clients']} clients; "
            f"errors {r['errors']}; p95 over {r['target_p95_ms']:.0f} ms: {', '.join(r['slower_than_target']) or 'none'} |"]
    for page, p in r["pages"].items():
        page = page if p["target"] else f"{page} (no target)"
        cpu = f"server CPU ms/req {p['server_cpu_ms_per_request']}"
        if "postgres_cpu_ms_per_request" in p:
            cpu += f" + PostgreSQL's {p['postgres_cpu_ms_per_request']}"
        rows.append(f"| {name}: {page} | | {p['requests']} | {p['wall_s']} | | {p['server_rss_mb']} | "
                    f"p50/p95/max ms {p['p50_ms']}/{p['p95_ms']}/{p['max_ms']}, {p['rps']} req/s, errors "
                    f"{p['errors']}, {cpu}, others' cores {p['others_cores']} |")
    return rows
