"""`partnerscope runs`: the recorded sync runs, newest first."""
from __future__ import annotations

import json

import click

from service.commands.context import Context, pass_ctx
from service.terminal import printable


@click.command()
@click.option("--source", metavar="NAME", help="Only this source's runs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="How many, newest first.")
@pass_ctx
def runs(ctx: Context, source: str | None, fmt: str, limit: int) -> None:
    """Sync runs, newest first: source, trigger, start, end, outcome, tickets, events, requests, waits, error."""
    from service.store.runs import runs as listed

    with ctx.sessions() as session:
        rows = listed(session, source, limit)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        ended = r["ended"][:19] if r["ended"] else "–"
        error = f"  {r['error']}" if r["error"] else ""
        click.echo(printable(f"{r['started'][:19]}  {ended:19}  {r['outcome']:<11} {r['trigger']:<8} {r['source']}  "
                             f"{r['tickets']} tickets, {r['events']} events, {r['requests']} requests, "
                             f"{r['waits']} waits{error}"))
    if not rows:
        click.echo("no sync has run yet" + (f" for source {printable(source)}" if source else ""), err=True)
