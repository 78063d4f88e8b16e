"""The `partnerscope` command line: one clear sentence on error, a traceback only with --debug."""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from connectors.errors import FatalError, RetriableError
from service.config import Config, ConfigError, load_config
from service.store.identity import IdentityError
from service.store.db import ensure_schema, make_engine, session_factory, transaction, upgrade
from service.progress import Reporter
from service.store.report import FilterError
from service.cli_deliveries import deliveries
from service.terminal import fit, pad, printable, widest

log = logging.getLogger("partnerscope")


class Context:
    """What every command needs: the configuration and, on demand, a migrated database."""

    def __init__(self, config_path: str | None, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._config: Config | None = None
        self._sessions: Any = None
        self.engine: Any = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def sessions(self) -> Any:
        if self._sessions is None:
            self.engine = make_engine(self.config.database_url)
            ensure_schema(self.engine)
            self._sessions = session_factory(self.engine)
        return self._sessions

    def close(self) -> None:
        """Release the database connections when the command ends."""
        if self.engine is not None:
            self.engine.dispose()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", help="Configuration file (default: $PARTNERSCOPE_CONFIG, else ./config.toml, else the built-in demo).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Partnerscope: who really carries quality, issues, improvements and deployment."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(message)s", stream=sys.stderr)
    for noisy in ("urllib3", "jira", "alembic", "waitress"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    ctx.obj = Context(config_path, debug)
    ctx.call_on_close(ctx.obj.close)


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply the schema migrations."""
    engine = make_engine(ctx.config.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"database {_safe_url(ctx.config.database_url)} is up to date")


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME", help="Sync only this source (repeatable).")
@pass_ctx
def sync(ctx: Context, names: tuple[str, ...]) -> None:
    """Fetch what changed in the configured trackers since the last sync."""
    run_sync(ctx, names)


def run_sync(ctx: Context, names: tuple[str, ...] = ()) -> None:
    from service.jobs.sync import sync_source

    config = ctx.config
    sources = [config.source(n) for n in names] if names else list(config.sources)
    if not sources:
        raise ConfigError(f"{config.path or 'the demo configuration'}: no [[sources]] are configured, so there is nothing to sync.")
    for source in sources:
        source.token()  # a missing token ends the command before any request is sent
    for source in sources:
        started = time.monotonic()
        with Reporter(f"sync {source.name}") as reporter:
            result = sync_source(ctx.sessions, config, source, reporter)
        for key, reason in result.refused:
            click.echo(printable(f"{source.name}: refused {key}: {reason}"), err=True)
        for key, missing in result.incomplete:
            click.echo(printable(f"{source.name}: incomplete history: {key}: {missing}"), err=True)
        for key, what in result.cut:
            click.echo(printable(f"{source.name}: {key}: {what} was cut to fit its column"), err=True)
        click.echo(
            f"{source.name}: {result.tickets} tickets, {result.events} events, "
            f"{result.attributions} attributions, {result.requests} requests "
            f"in {time.monotonic() - started:.1f} s"
        )
    _data_quality_warnings(ctx)


@cli.group("import")
def import_group() -> None:
    """Import exported tracker JSON."""


@import_group.command("jira")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default="jira-import", show_default=True, help="Source name to file the tickets under.")
@pass_ctx
def import_jira(ctx: Context, files: tuple[Path, ...], source: str) -> None:
    """Import Jira exports (FILE...): search responses, issues, arrays or JSON Lines of them.

    A file that cannot be read is refused whole, a malformed issue alone; the rest is kept.
    """
    from service.jobs.ingest import import_files

    started = time.monotonic()
    with Reporter("import") as reporter:
        result = import_files(ctx.sessions, ctx.config, files, source, reporter)
    _report_import(ctx, result, len(files), started)


@import_group.command("github")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default="github-import", show_default=True, help="Source name to file the tickets under.")
@pass_ctx
def import_github(ctx: Context, files: tuple[Path, ...], source: str) -> None:
    """Import GitHub REST exports (FILE...): issues, pull requests, issue and timeline events,
    comments and reviews, in any files; they are grouped by ticket across all of them.
    """
    from service.jobs.github_import import import_github_files

    started = time.monotonic()
    with Reporter("import") as reporter:
        result = import_github_files(ctx.sessions, ctx.config, files, source, reporter)
    _report_import(ctx, result, len(files), started)


def _report_import(ctx: Context, result: Any, files: int, started: float) -> None:
    """What every import prints: refused files and notices on stderr, one line each, then the
    summary; exit status 1 when anything was refused."""
    for name, reason in result.refused:
        click.echo(f"refused {printable(name)}: {printable(reason)}; nothing from it was stored", err=True)
    for notice in result.warnings:
        click.echo(printable(str(notice)), err=True)
    _data_quality_warnings(ctx)
    click.echo(f"imported {result.files} of {files} files: {result.tickets} tickets, {result.events} events, "
               f"{result.attributions} attributions in {time.monotonic() - started:.1f} s")
    if result.failed:
        sys.exit(1)


def _data_quality_warnings(ctx: Context) -> None:
    """The database-wide data-quality notices (refused merges, unaffiliated accounts, …), one a line."""
    from service.store.quality import data_quality, quality_lines

    with ctx.sessions() as session:
        # Incomplete tickets were named one by one already, by the import or sync that met them.
        for line in quality_lines(data_quality(session, ctx.config), skip=("incomplete_tickets",)):
            click.echo(printable(f"data quality: {line}"), err=True)


@cli.command()
@pass_ctx
def classify(ctx: Context) -> None:
    """Recompute kinds, phases and every attribution (after a configuration change)."""
    from service.jobs.classify import classify_all

    started = time.monotonic()
    with Reporter("classify") as reporter, transaction(ctx.sessions) as session:
        result = classify_all(session, ctx.config, reporter.progress)
    click.echo(f"classified {result.tickets} tickets, {result.events} events: "
               f"{result.attributions} attributions in {time.monotonic() - started:.1f} s")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--project", metavar="KEY", help="Only tickets of this project.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only acts on or after this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only acts on or before this date.")
@pass_ctx
def report(ctx: Context, fmt: str, project: str | None, since: Any, until: Any) -> None:
    """Where each responsibility sits: counts by side, partner share, interval and pattern."""
    from service.store.report import Filters, report_csv, responsibility_report

    filters = Filters(project, since.date() if since else None, until.date() if until else None)
    with ctx.sessions() as session:
        data = responsibility_report(session, ctx.config, filters)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    elif fmt == "csv":
        click.echo(report_csv(data), nl=False)
    else:
        click.echo(_report_table(data))


def _report_table(data: dict[str, Any]) -> str:
    from service.store.quality import quality_lines

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v * 100:.0f}%"

    lines = [f"{'area':<18} {'partner':>7} {'client':>7} {'unknown':>7} {'share':>6} {'95% interval':>13}  pattern"]
    for name, a in data["areas"].items():
        interval = "–" if a["low"] is None else f"{pct(a['low'])}–{pct(a['high'])}"
        lines.append(f"{name:<18} {a['partner']:>7} {a['client']:>7} {a['unknown']:>7} {pct(a['partner_share']):>6} {interval:>13}  {a['assessment']}")
    lines.append("")
    lines.append(f"{'role':<18} {'partner':>7} {'client':>7} {'unknown':>7}")
    for name, c in data["roles"].items():
        lines.append(f"{name:<18} {c['partner']:>7} {c['client']:>7} {c['unknown']:>7}")
    quality = quality_lines(data["data_quality"])
    if quality:
        lines += ["", "data quality:"] + [printable(f"  {line}") for line in quality]
    return "\n".join(lines)


@cli.command()
@click.option("--unmapped", is_flag=True, help="Only statuses that no phase mapping covers.")
@pass_ctx
def statuses(ctx: Context, unmapped: bool) -> None:
    """Status names seen in the trackers and the phase each maps to."""
    from service.store.report import statuses as list_statuses

    with ctx.sessions() as session:
        rows = list_statuses(session, ctx.config, unmapped)
    status_width = widest((row.status for row in rows), floor=30)  # never cut: it is what you map
    for row in rows:
        click.echo(f"{row.uses:>8}  {pad(row.status, status_width)} {row.phase or 'UNMAPPED'}")
    if unmapped and rows:
        click.echo(f"{len(rows)} unmapped statuses: map them under [workflow.phases] in the configuration.", err=True)


# Terminal cells per `people` column: account ids are never cut below the widest of a
# usual size (a Jira Cloud id with its prefix is 48), names are cut with an ellipsis.
ACCOUNT_COLUMN, ACCOUNT_COLUMN_MAX, NAME_COLUMN = 40, 60, 28


@cli.group(invoke_without_command=True)
@click.option("--unaffiliated", is_flag=True, help="Only people that no organisation rule covers.")
@click.pass_context
def people(click_ctx: click.Context, unaffiliated: bool) -> None:
    """People with their organisation and activity, most active first (merged accounts once)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from service.store.report import people as list_people

    from service.store.identity import refused_merges

    ctx: Context = click_ctx.obj
    with ctx.sessions() as session:
        rows = list_people(session, ctx.config, unaffiliated)
        refused = refused_merges(session, ctx.config)
    account_width = widest((p.account for p in rows), floor=ACCOUNT_COLUMN, ceiling=ACCOUNT_COLUMN_MAX)
    for p in rows:
        org = f"{p.organisation} ({p.side})" if p.organisation else "unaffiliated"
        also = f"  + {', '.join(p.accounts[1:])}" if len(p.accounts) > 1 else ""
        click.echo(f"{p.activity:>8}  {fit(p.account, account_width)} {fit(p.name or '', NAME_COLUMN)} "
                   f"{printable(org)}{printable(also)}")
    if refused:
        # Apart from the people: these accounts stay separate until someone decides otherwise.
        click.echo("")
        click.echo("not merged although they share an email address (`people merge A B` to merge by hand):")
        for merge in refused:
            click.echo(printable(f"  {merge.email}: {', '.join(merge.accounts)}: {merge.reason}"))


@people.command("merge")
@click.argument("account_a")
@click.argument("account_b")
@pass_ctx
def people_merge(ctx: Context, account_a: str, account_b: str) -> None:
    """Record that ACCOUNT_A and ACCOUNT_B (e.g. jira:5b10… github:octocat) are one person."""
    _regroup(ctx, "merge", account_a, account_b)


@people.command("unmerge")
@click.argument("account_a")
@click.argument("account_b")
@pass_ctx
def people_unmerge(ctx: Context, account_a: str, account_b: str) -> None:
    """Separate ACCOUNT_A from the person it shares with ACCOUNT_B (reverses a merge)."""
    _regroup(ctx, "unmerge", account_a, account_b)


def _regroup(ctx: Context, action: str, a: str, b: str) -> None:
    from service.jobs.classify import Classifier
    from service.jobs.classify import regroup
    from service.store.identity import record
    from service.store.directory import Directory

    with transaction(ctx.sessions) as session:
        record(session, action, a, b)
        tickets = regroup(session, ctx.config, Classifier(ctx.config, Directory(session)))
    click.echo(f"{action}d {printable(a)} and {printable(b)}; attributed {tickets} tickets again")


DEMO_MAX_TICKETS = 1_000_000  # the benchmark builds 100,000; far more would only exhaust memory


@cli.command()
@click.option("--tickets", default=2000, show_default=True, type=click.IntRange(1, DEMO_MAX_TICKETS),
              help="How many demo tickets to generate.")
@pass_ctx
def demo(ctx: Context, tickets: int) -> None:
    """Generate the demo scenario (Acme and its partner Nordlys) into the database."""
    run_demo(ctx, tickets)


def run_demo(ctx: Context, tickets: int = 2000) -> None:
    from service.jobs.ingest import build_demo

    started = time.monotonic()
    with Reporter("demo") as reporter:
        result = build_demo(ctx.sessions, ctx.config, tickets, reporter=reporter)
    click.echo(f"demo: {result.tickets} tickets, {result.events} events, {result.attributions} attributions "
               f"in {time.monotonic() - started:.1f} s")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the dashboard and API."""
    _serve(ctx, host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def run(ctx: Context, host: str, port: int) -> None:
    """The main job: sync the configured trackers (or build the demo), then serve."""
    from service.jobs.ingest import DEMO_SOURCE
    from service.store.models import Ticket

    if ctx.config.is_demo:
        with ctx.sessions() as session:
            have = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.source == DEMO_SOURCE))
        if have:
            click.echo(f"demo data already in {_safe_url(ctx.config.database_url)} ({have} tickets)")
        else:
            run_demo(ctx)
    else:
        run_sync(ctx)
    _serve(ctx, host, port)


def _serve(ctx: Context, host: str, port: int) -> None:
    from waitress.server import create_server

    from service.web import create_app

    ctx.sessions  # opens the engine here, so that the command disposes of it however it ends
    app = create_app(ctx.config, engine=ctx.engine)
    applier = app.extensions["partnerscope"]["applier"]
    channels: dict[Any, Any] = {}  # waitress registers its sockets here: ours to close if it fails
    try:
        server = create_server(app, map=channels, host=host, port=port, threads=8)
    except ValueError:  # waitress could not resolve the host name
        raise click.BadParameter(f"{printable(host)} is not a host name or address of this machine.",
                                 param_hint="'--host'") from None
    except OSError as exc:  # a port in use, or an address that is not this machine's
        for channel in list(channels.values()):
            channel.close()
        raise click.ClickException(f"cannot serve on {printable(host)} port {port}: {exc.strerror or exc}.") from None
    hooks = app.extensions["partnerscope"]["webhooks"]
    for kind, name in sorted(hooks):
        click.echo(f"webhooks for {printable(name)} at http://{printable(host)}:{port}/webhooks/{kind}/{printable(name)}")
    click.echo(f"serving on http://{printable(host)}:{port}/ (Ctrl+C to stop)")
    applier.start()  # applies stored webhook deliveries, including any left by an earlier run
    try:
        server.run()
    finally:
        applier.stop()


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and turn known errors into one sentence and an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="partnerscope", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, IdentityError, FilterError) as exc:
        _fail(debug, str(exc), 2)
    except FatalError as exc:
        _fail(debug, str(exc), 1)
    except RetriableError as exc:
        _fail(debug, f"{exc} Everything fetched before this point is kept; run the command again to resume.", 1)
    except SQLAlchemyError as exc:
        _fail(debug, f"database error: {exc.__class__.__name__}: {str(exc.orig if hasattr(exc, 'orig') and exc.orig else exc).splitlines()[0]}", 1)
    except KeyboardInterrupt:
        click.echo("interrupted; everything committed so far is kept", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a mistake of the user's: still one sentence, traceback on --debug
        _fail(debug, f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}; "
                     "run again with --debug for the traceback.", 1)


def _fail(debug: bool, message: str, status: int) -> None:
    if debug:
        raise
    click.echo(f"partnerscope: {printable(message)}", err=True)
    sys.exit(status)




cli.add_command(deliveries)


if __name__ == "__main__":
    main()
