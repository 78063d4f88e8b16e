"""The `webhooks` case (issue 8, "Load and faults"): signed Jira deliveries replayed open-loop
against `partnerscope serve`, on SQLite and on PostgreSQL, then checked against an import.

For each database: a replay of `--webhook-deliveries` deliveries (`simulator.jira_hook_replay`:
issue creations, changelog updates, comment events, redeliveries, swapped updates) is signed
(`X-Hub-Signature: sha256=<HMAC of the body>`) and sent at `--webhook-rate` per second to a
`partnerscope serve` process whose config names a Jira source with `webhook_secret_env`. Then:

- acknowledgement latency, counted from when each request was due (see `bench.hooks_send`), and
  from when it was sent; 5xx and unanswered requests;
- applied-within latency: `applied_at - received_at` of every stored delivery, from the database;
- every delivery id stored exactly once: rows against the distinct identifiers sent;
- identity: tickets, events, attributions and accounts against a fresh database that imported
  the replay's final issues (`partnerscope import jira`), compared on natural keys
  (`bench.hooks_compare`), each difference named.

`kill_restart` replays a shorter mix on SQLite, SIGKILLs the server while a batch is applied,
restarts it (claims taken over after PARTNERSCOPE_CLAIM_TIMEOUT), sends again what got no 2xx,
as Jira retries, and checks that every acknowledged delivery is stored once and applied.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

from bench.hooks_compare import compare, differences, natural_rows
from bench.hooks_send import Outcome, Request, percentile, send_open_loop
from bench.hooks_server import (Served, applying_now, delivery_rows, postgres_answers, recreate_database,
                                wait_applied)
from simulator.jira_hook_replay import Replay, replay
from simulator.people import scenario_toml
from simulator.scenario import search_pages

SOURCE, SECRET_ENV = "bench-jira", "BENCH_JIRA_HOOK_SECRET"
SECRET = "bench-webhook-secret-5c1e"  # a fake: the server reads it from the environment as in production
SITE = "https://acme.atlassian.net"  # the scenario's; the server never calls it (serve does not sync)
APPLY_WITHIN = 300.0  # seconds to wait for the queue to drain after the last request


def webhook_arguments(parser: argparse.ArgumentParser) -> None:
    """The case's options of `python -m bench.run`."""
    parser.add_argument("--webhook-deliveries", type=int, default=10000, help="deliveries the webhooks case replays")
    parser.add_argument("--webhook-rate", type=float, default=200, help="webhook deliveries sent per second")
    parser.add_argument("--webhook-kill-deliveries", type=int, default=2000,
                        help="deliveries of the kill-and-restart check (0: skip it)")
    parser.add_argument("--postgres-admin-url", default=os.environ.get(
        "PARTNERSCOPE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL database to connect to while bench_hooks is created and dropped")


def requests_of(plan: Replay) -> list[Request]:
    """The replay as signed HTTP requests, with the headers Jira sends."""
    path = f"/webhooks/jira/{SOURCE}"
    made = []
    for sending in plan.sendings:
        body = sending.delivery.body
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Atlassian Webhook HTTP Client",
                   "X-Atlassian-Webhook-Identifier": sending.identifier,
                   "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
        if sending.retry:
            headers["X-Atlassian-Webhook-Retry"] = str(sending.retry)
        made.append(Request(path, headers, body))
    return made


def config_text(database_url: str) -> str:
    return (f'[database]\nurl = "{database_url}"\n\n{scenario_toml()}\n'
            f'[[sources]]\nname = "{SOURCE}"\nkind = "jira"\nurl = "{SITE}"\ndeployment = "cloud"\n'
            f'jql = "project in (SHOP, PAY)"\nemail = "bench@acme.example"\ntoken_env = "BENCH_JIRA_TOKEN"\n'
            f'webhook_secret_env = "{SECRET_ENV}"\nstart = 2020-01-01\n')


def latencies(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    answered = [o for o in outcomes if o.status is not None]
    due = [o.from_due_ms for o in answered]
    sent = [o.from_sent_ms for o in answered]
    late = [(o.sent - o.due) * 1000 for o in outcomes if o.sent]
    span = max(o.sent for o in outcomes) - min(o.sent for o in outcomes if o.sent) if late else 0
    figures: dict[str, Any] = {"sent": len(late), "answered": len(answered),
                               "unanswered": len(outcomes) - len(answered),
                               "status": dict(sorted(Counter(str(o.status) for o in answered).items())),
                               "5xx": sum(1 for o in answered if o.status >= 500),
                               "send_rate_per_s": round((len(late) - 1) / span, 1) if span else None,
                               "send_late_p99_ms": _ms(percentile(late, 0.99))}
    for name, values in (("ack_ms", due), ("ack_from_sent_ms", sent)):
        figures[name] = {f"p{int(p * 100)}": _ms(percentile(values, p)) for p in (0.5, 0.95, 0.99)}
        figures[name]["max"] = _ms(max(values) if values else None)
    return figures


def stored_figures(url: str, identifiers: set[str]) -> dict[str, Any]:
    rows = delivery_rows(url)
    ids = [r.delivery_id for r in rows]
    waited = [(r.applied_at - r.received_at).total_seconds() for r in rows if r.applied_at is not None]
    return {"rows": len(rows), "distinct_ids_sent": len(identifiers),
            "stored_once": len(ids) == len(set(ids)) == len(identifiers) and set(ids) == identifiers,
            "states": dict(Counter(r.state for r in rows)),
            "failed_examples": [r.error for r in rows if r.state == "failed"][:3],
            "applied_s": {"p50": _s(percentile(waited, 0.5)), "p95": _s(percentile(waited, 0.95)),
                          "p99": _s(percentile(waited, 0.99)), "max": _s(max(waited) if waited else None)},
            "attempts_max": max((r.attempts for r in rows), default=0)}


def identity(ours_url: str, reference_url: str, issues: list[dict[str, Any]], run: Callable[..., Any],
             workdir: Path, name: str) -> dict[str, Any]:
    """Import the replay's final issues into a fresh database and compare it with what the webhooks made."""
    export = workdir / f"{name}-final.json"
    export.write_text(json.dumps(next(search_pages(issues, page_size=len(issues) or 1))), encoding="utf-8")
    config = workdir / f"{name}-reference.toml"
    config.write_text(config_text(reference_url), encoding="utf-8")
    run(["--config", str(config), "import", "jira", str(export), "--source", SOURCE], workdir / f"{name}-import.log")
    report = compare(natural_rows(ours_url), natural_rows(reference_url))
    return {"identical": report["identical"], "identical_but_by_design": report["identical_but_by_design"],
            "differences": differences(report),
            "rows": {t: {"webhooks": r["webhooks"], "import": r["import"]}
                     for t, r in report.items() if isinstance(r, dict)}}


def run_once(command: list[str], url: str, plan: Replay, requests: list[Request], rate: float, port: int,
             workdir: Path, name: str, env: dict[str, str]) -> dict[str, Any]:
    """Serve, replay, wait until applied, stop the server; the figures."""
    config = workdir / f"{name}.toml"
    config.write_text(config_text(url), encoding="utf-8")
    served = Served(command, config, port, env, workdir / f"{name}-serve.log", Path.cwd()).start()
    idle = served.cpu_s()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    outcomes = send_open_loop("127.0.0.1", port, requests, rate)
    sending_s = time.monotonic() - started
    drained_s, _ = wait_applied(url, APPLY_WITHIN)
    busy = served.cpu_s() - idle
    figures = {"deliveries": len(requests), "tickets": len(plan.issues), "rate_per_s": rate,
               "send_s": round(sending_s, 1), "drained_after_s": drained_s, "mix": plan.by_event,
               "redeliveries": plan.redeliveries, "out_of_order_pairs": plan.out_of_order,
               "deleted_comments": plan.deleted_comments, **latencies(outcomes),
               # the machine's load: the server's share of two cores is what its latency rests on
               "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
               "server_cpu_ms_per_delivery": round(busy * 1000 / len(requests), 2)}
    figures["server"] = served.stop()
    figures.update(stored_figures(url, {s.identifier for s in plan.sendings}))
    return figures


def kill_restart(command: list[str], url: str, total: int, rate: float, port: int, workdir: Path,
                 env: dict[str, str], run: Callable[..., Any], reference_url: str) -> dict[str, Any]:
    """SIGKILL the server mid-load while a batch is applied, restart it, retry what got no 2xx."""
    plan = replay(total, seed=23)
    requests = requests_of(plan)
    config = workdir / "kill.toml"
    config.write_text(config_text(url), encoding="utf-8")
    env = dict(env, PARTNERSCOPE_CLAIM_TIMEOUT="3")
    served = Served(command, config, port, env, workdir / "kill-serve.log", Path.cwd()).start()
    killed: dict[str, Any] = {}

    def killer() -> None:
        time.sleep(len(requests) / rate / 3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (claimed := applying_now(url)):
            time.sleep(0.01)
        killed.update(at_s=round(time.monotonic() - started, 2), applying=claimed)
        served.kill()
        time.sleep(1.0)
        served.start()

    started = time.monotonic()
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    outcomes = send_open_loop("127.0.0.1", port, requests, rate)
    thread.join()
    unanswered = [i for i, o in enumerate(outcomes) if o.status is None or not 200 <= o.status < 300]
    retried = send_open_loop("127.0.0.1", port, [requests[i] for i in unanswered], rate)
    drained_s, _ = wait_applied(url, APPLY_WITHIN)
    served.stop()
    acked = {plan.sendings[i].identifier for i, o in enumerate(outcomes) if o.status and 200 <= o.status < 300}
    acked |= {plan.sendings[i].identifier for i, o in zip(unanswered, retried) if o.status and 200 <= o.status < 300}
    rows = delivery_rows(url)
    stored = Counter(r.delivery_id for r in rows)
    done = {r.delivery_id for r in rows if r.state in ("applied", "ignored")}  # comment_updated: ignored by design
    return {"deliveries": total, "tickets": len(plan.issues), "killed": killed, "not_acknowledged_first": len(unanswered),
            "retried_acknowledged": sum(1 for o in retried if o.status and 200 <= o.status < 300),
            "acknowledged_ids": len(acked), "lost": len(acked - set(stored)),
            "stored_twice": sum(1 for n in stored.values() if n > 1), "not_applied": len(acked - done),
            "drained_after_s": drained_s, "states": dict(Counter(r.state for r in rows)),
            "identity": identity(url, reference_url, plan.issues, run, workdir, "kill")}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _s(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def case_webhooks(command: list[str], args: Any, workdir: Path, results: dict[str, Any], free_port: Callable[[], int],
                  root: Path) -> None:
    """Both databases (PostgreSQL when a server answers), then the kill-and-restart check on SQLite."""
    env = dict(os.environ, **{SECRET_ENV: SECRET})
    plan = replay(args.webhook_deliveries)
    requests = requests_of(plan)

    def run(arguments: list[str], log: Path) -> None:
        with open(log, "wb") as out:
            subprocess.run(command + arguments, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root, check=True)

    def sqlite(name: str) -> str:
        """A fresh SQLite database's URL (any file of that name is removed)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / name}.db{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{workdir / name}.db"

    url = sqlite("hooks")
    figures = run_once(command, url, plan, requests, args.webhook_rate, free_port(), workdir, "hooks-sqlite", env)
    figures["identity"] = identity(url, sqlite("hooks-reference"), plan.issues, run, workdir, "sqlite")
    results["webhooks_sqlite"] = figures
    why_not = postgres_answers(args.postgres_admin_url)
    if why_not is not None:
        results["webhooks_postgresql"] = {"skipped": f"no PostgreSQL server answers at {args.postgres_admin_url} ({why_not})"}
    else:
        url = recreate_database(args.postgres_admin_url, "bench_hooks")
        reference = recreate_database(args.postgres_admin_url, "bench_hooks_reference")
        try:
            figures = run_once(command, url, plan, requests, args.webhook_rate, free_port(), workdir, "hooks-pg", env)
            figures["identity"] = identity(url, reference, plan.issues, run, workdir, "postgresql")
            results["webhooks_postgresql"] = figures
        finally:
            for name in ("bench_hooks", "bench_hooks_reference"):
                recreate_database(args.postgres_admin_url, name, drop_only=True)
    if args.webhook_kill_deliveries:
        results["webhooks_kill_restart"] = kill_restart(command, sqlite("kill"), args.webhook_kill_deliveries,
                                                        args.webhook_rate, free_port(), workdir, env, run,
                                                        sqlite("kill-reference"))


def table_row(r: dict[str, Any]) -> list[str]:
    """The case's row of the Markdown table: tickets, requests, wall s, CPU s, peak RSS MB, notes."""
    if "acknowledged_ids" in r:
        notes = (f"killed with {r['killed'].get('applying')} claimed; acknowledged {r['acknowledged_ids']}, lost "
                 f"{r['lost']}, stored twice {r['stored_twice']}, not applied {r['not_applied']}; identical to import "
                 f"{r['identity']['identical']}")
        return [str(r["tickets"]), str(r["deliveries"]), "", "", "", notes]
    ack, applied = r["ack_ms"], r["applied_s"]
    identity = r["identity"]
    notes = (f"5xx {r['5xx']}, unanswered {r['unanswered']}; ack ms p50/p95/p99 {ack['p50']}/{ack['p95']}/{ack['p99']}; "
             f"applied s p50/p99 {applied['p50']}/{applied['p99']}; stored once {r['stored_once']}; identical to "
             f"import {identity['identical']} (but by design: {identity['identical_but_by_design']})"
             + (f" ({'; '.join(identity['differences'])})" if identity["differences"] else "")
             + f"; load {r['load_average_1min']['before']}→{r['load_average_1min']['after']}")
    server = r.get("server", {})
    return [str(r["tickets"]), str(r["sent"]), str(r["send_s"]), str(server.get("cpu_s", "")),
            str(server.get("peak_rss_mb", "")), notes]
