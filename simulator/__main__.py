"""`python -m simulator jira|github --port 8765 --tickets 2000 [--no-shift] --latency-ms 10 --fault-rate 0.02 --faults 429,503`.

Serves a fake tracker in the foreground until Ctrl-C, then prints the request counts. One
subcommand per tracker.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any, Callable, Sequence

from simulator.faults import FAULT_KINDS, FaultPlan, parse_fault_at


def _rate_limit(text: str) -> tuple[int, float]:
    requests, _, seconds = text.partition("/")
    try:
        return int(requests), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not REQUESTS/SECONDS, e.g. 100/60") from None


def _fault_at(text: str) -> dict[int, str]:
    try:
        return parse_fault_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kind '{unknown[0]}'; use {', '.join(FAULT_KINDS)}")
    return kinds


def _common(parser: argparse.ArgumentParser) -> None:
    """The knobs every fake server shares (see simulator.faults)."""
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1; 0 picks a free one (default 8765)")
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every API request")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of API requests that fail (0..1)")
    parser.add_argument("--faults", type=_kinds, default=("429", "503"),
                        help=f"kinds drawn at --fault-rate, comma-separated: {', '.join(FAULT_KINDS)} "
                             "(default 429,503)")
    parser.add_argument("--fault-at", type=_fault_at, default={}, metavar="N:KIND,...",
                        help="fail these request numbers (1-based), e.g. 3:429,7:truncate")
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draw (default 0)")
    parser.add_argument("--retry-after", type=int, default=1,
                        help="Retry-After seconds on injected 429/503 (default 1)")
    parser.add_argument("--hang-seconds", type=float, default=35.0,
                        help="how long a 'timeout' fault holds the request before dropping it (default 35)")
    parser.add_argument("--rate-limit", type=_rate_limit, metavar="REQUESTS/SECONDS",
                        help="a request budget that resets every SECONDS; 429 with Retry-After when spent")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per fake tracker."""
    parser = argparse.ArgumentParser(prog="python -m simulator",
                                     description="Fake tracker servers for tests and the benchmark.")
    commands = parser.add_subparsers(dest="tracker", required=True)
    jira = commands.add_parser("jira", help="a fake Jira (Cloud and Server REST) over the demo scenario")
    _common(jira)
    jira.add_argument("--tickets", type=int, default=2000, help="issues in the scenario (default 2000)")
    jira.add_argument("--seed", type=int, default=7, help="scenario seed (default 7)")
    _no_shift(jira)
    jira.add_argument("--email", default="partnerscope@acme.example", help="the account's email (Basic auth user)")
    jira.add_argument("--token", default="fake-jira-token", help="the API token / personal access token")
    jira.add_argument("--time-zone", default="UTC", help="the account's time zone; JQL times are read in it")
    jira.add_argument("--deployment", choices=("any", "cloud", "server"), default="any",
                      help="which API family to serve (default any: both)")
    jira.add_argument("--embedded-histories", type=int, default=40, help="changelog entries Cloud's search embeds")
    jira.add_argument("--embedded-comments", type=int, default=20, help="comments Cloud's search embeds")
    jira.add_argument("--allow-unbounded", action="store_true", help="accept JQL without a restriction on search/jql")
    _github_parser(commands)
    return parser


def _no_shift(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-shift", dest="shift", action="store_false",
                        help="the steady scenario: partner shares stay the same all period (default: they shift halfway)")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen fake server until interrupted (Ctrl-C or SIGTERM), then print its request counts."""
    args = build_parser().parse_args(argv)
    # A shell starts background jobs with SIGINT ignored; a benchmark stopping the server with
    # SIGINT or SIGTERM should still get the counts printed, so both are taken explicitly.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        plan = FaultPlan(rate=args.fault_rate, kinds=args.faults, at=args.fault_at, seed=args.fault_seed,
                         retry_after=args.retry_after, hang_seconds=args.hang_seconds)
    except ValueError as exc:
        print(f"python -m simulator: {exc}", file=sys.stderr)
        return 2
    if args.tracker == "github":
        return _serve_github(args, plan)
    from simulator.jira_server import JiraServer

    server = JiraServer(
        tickets=args.tickets, seed=args.seed, port=args.port, email=args.email, token=args.token,
        time_zone=args.time_zone, deployment=args.deployment, latency_ms=args.latency_ms,
        faults=plan if (plan.rate or plan.at) else None, rate_limit=args.rate_limit,
        embedded_histories=args.embedded_histories, embedded_comments=args.embedded_comments,
        allow_unbounded=args.allow_unbounded, quiet=not args.verbose, scenario={"shift": args.shift},
    )

    return _serve(server, lambda: f"Fake Jira: {args.tickets} issues at {server.url} (user {args.email}, "
                                  f"token {args.token}); GET {server.url}/_stats for request counts. Ctrl-C stops.")


def _serve(server: Any, banner: Callable[[], str]) -> int:
    """Serve in the foreground until Ctrl-C or SIGTERM, say where once listening, then print the counts."""
    try:
        server.serve_forever(lambda: print(banner(), flush=True))
    except KeyboardInterrupt:
        pass
    print(json.dumps(server.stats, indent=2))
    return 0


# -- github ---------------------------------------------------------------------------------------

def _github_parser(commands: Any) -> None:
    """`python -m simulator github --port 8766 --tickets 2000 --latency-ms 10`: the fake GitHub's flags."""
    github = commands.add_parser("github", help="a fake GitHub (REST, GraphQL, Enterprise /api/v3) over the "
                                                "GitHub demo scenario")
    _common(github)
    github.add_argument("--tickets", type=int, default=2000, help="issues and pull requests (default 2000)")
    github.add_argument("--seed", type=int, default=7, help="scenario seed (default 7)")
    _no_shift(github)
    github.add_argument("--token", default="fake-github-token", help="the token to accept (token X or Bearer X)")
    github.add_argument("--enterprise-no-rate-limit", action="store_true",
                        help="no rate limit and no X-RateLimit headers, as an Enterprise Server with it off "
                             "(--rate-limit is then ignored; default: GitHub's 5000 requests an hour)")
    github.add_argument("--secondary-limit", type=_rate_limit, metavar="REQUESTS/SECONDS",
                        help="answer bursts above REQUESTS per SECONDS with 403 and Retry-After")
    github.add_argument("--events-page-limit", type=int, default=None,
                        help="refuse pages of the repository's issue events beyond this one with 422")


def _serve_github(args: argparse.Namespace, plan: FaultPlan) -> int:
    from simulator.github_server import GITHUB_LIMIT, GitHubServer

    server = GitHubServer(
        tickets=args.tickets, seed=args.seed, port=args.port, token=args.token, latency_ms=args.latency_ms,
        faults=plan if (plan.rate or plan.at) else None, rate_limit=args.rate_limit or GITHUB_LIMIT,
        secondary_limit=args.secondary_limit, enterprise_no_rate_limit=args.enterprise_no_rate_limit,
        events_page_limit=args.events_page_limit, quiet=not args.verbose, scenario={"shift": args.shift},
    )

    return _serve(server, lambda: f"Fake GitHub: {args.tickets} issues and pull requests at {server.url} "
                                  f"(Enterprise: {server.api_url}; token {args.token}); GET {server.url}/_stats "
                                  "for request counts. Ctrl-C stops.")


if __name__ == "__main__":
    sys.exit(main())
