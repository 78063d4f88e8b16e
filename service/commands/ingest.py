"""Getting tickets in: `sync`, `import jira|github`, `classify` and `demo`."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from service.commands.context import Context, notice, pass_ctx
from service.config import ConfigError
from service.jobs.heap import batch_collections
from service.progress import Reporter
from service.store.db import transaction

# The benchmark's `scale` case builds 1,000,000. The build streams, so memory is not the limit;
# time and disk are (on SQLite about 2.5 s of CPU and 7.4 MB of file per 1,000 tickets).
DEMO_MAX_TICKETS = 1_000_000


@click.command()
@click.option("--source", "names", multiple=True, metavar="NAME", help="Sync only this source (repeatable).")
@click.option("--reconcile", is_flag=True,
              help="Read the last two days again (or from the bookmark, if older): changes Jira Cloud's search "
                   "indexed later than the index lag allows.")
@pass_ctx
def sync(ctx: Context, names: tuple[str, ...], reconcile: bool) -> None:
    """Fetch what changed in the configured trackers since the last sync."""
    from service.jobs.sync import RECONCILE_WINDOW

    run_sync(ctx, names, reread=RECONCILE_WINDOW if reconcile else None)


def run_sync(ctx: Context, names: tuple[str, ...] = (), trigger: str = "manual", reread: Any = None) -> None:
    import threading

    from service.jobs.stopping import stop_on_signals

    config = ctx.config
    sources = [config.source(n) for n in names] if names else list(config.sources)
    if not sources:
        raise ConfigError(f"{config.path or 'the demo configuration'}: no [[sources]] are configured, so there is nothing to sync.")
    for source in sources:
        source.token()  # a missing token ends the command before any request is sent
    stop = threading.Event()
    with stop_on_signals(stop):
        for source in sources:
            if stop.is_set():
                break
            _sync_one(ctx, source, trigger, stop, reread)
    _data_quality_warnings(ctx)


def _sync_one(ctx: Context, source: Any, trigger: str, stop: Any, reread: Any) -> None:
    from service.jobs.sync import sync_source

    started = time.monotonic()
    with Reporter(f"sync {source.name}") as reporter, batch_collections():
        result = sync_source(ctx.sessions, ctx.config, source, reporter, trigger=trigger, stop=stop, reread=reread)
    for key, reason in result.refused:
        notice("sync.refused", f"{source.name}: refused {key}: {reason}")
    for key, missing in result.incomplete:
        notice("sync.incomplete_history", f"{source.name}: incomplete history: {key}: {missing}")
    for key, what in result.cut:
        notice("sync.cut", f"{source.name}: {key}: {what} was cut to fit its column")
    click.echo(
        f"{source.name}: {result.tickets} tickets, {result.events} events, "
        f"{result.attributions} attributions, {result.requests} requests "
        f"in {time.monotonic() - started:.1f} s"
    )
    if result.stopped:
        notice("sync.stopped", f"{source.name}: stopped on request after its last committed page; the next sync "
                               "resumes there")


@click.group("import")
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
    with Reporter("import") as reporter, batch_collections():
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
    with Reporter("import") as reporter, batch_collections():
        result = import_github_files(ctx.sessions, ctx.config, files, source, reporter)
    _report_import(ctx, result, len(files), started)


def _report_import(ctx: Context, result: Any, files: int, started: float) -> None:
    """What every import prints: refused files and notices on stderr, one line each, then the
    summary; exit status 1 when anything was refused."""
    for name, reason in result.refused:
        notice("import.refused", f"refused {name}: {reason}; nothing from it was stored")
    for warning in result.warnings:
        notice("import.notice", str(warning))
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
            notice("data_quality.notice", f"data quality: {line}")


@click.command()
@pass_ctx
def classify(ctx: Context) -> None:
    """Recompute kinds, phases and every attribution (after a configuration change)."""
    from service.jobs.classify import classify_all

    started = time.monotonic()
    with Reporter("classify") as reporter, batch_collections(), transaction(ctx.sessions) as session:
        result = classify_all(session, ctx.config, reporter.progress)
    click.echo(f"classified {result.tickets} tickets, {result.events} events: "
               f"{result.attributions} attributions in {time.monotonic() - started:.1f} s")


@click.command()
@click.option("--tickets", default=2000, show_default=True, type=click.IntRange(1, DEMO_MAX_TICKETS),
              help="How many demo tickets to generate.")
@click.option("--no-shift", "steady", is_flag=True,
              help="A steady collaboration: each role's partner share stays the same all period "
                   "(default: the partner takes over halfway).")
@pass_ctx
def demo(ctx: Context, tickets: int, steady: bool) -> None:
    """Generate the demo scenario (Acme and its partner Nordlys) into the database."""
    run_demo(ctx, tickets, shift=not steady)


def run_demo(ctx: Context, tickets: int = 2000, shift: bool = True) -> None:
    from service.jobs.ingest import build_demo

    started = time.monotonic()
    with Reporter("demo") as reporter, batch_collections():
        result = build_demo(ctx.sessions, ctx.config, tickets, reporter=reporter, shift=shift)
    click.echo(f"demo: {result.tickets} tickets, {result.events} events, {result.attributions} attributions "
               f"in {time.monotonic() - started:.1f} s")
