"""Serving: `serve` (the app, its API and webhooks) and `run` (the main job: demo or sync, then serve)."""
from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func, select

from service.commands.context import Context, pass_ctx
from service.commands.ingest import run_demo, run_sync
from service.store.db import safe_url
from service.terminal import printable


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the dashboard and API."""
    _serve(ctx, host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def run(ctx: Context, host: str, port: int) -> None:
    """The main job: sync the configured trackers (or build the demo), then serve, syncing the
    sources that have a `schedule` or `every` on it, all in this one process."""
    from service.jobs.ingest import DEMO_SOURCE
    from service.store.models import Ticket

    if ctx.config.is_demo:
        with ctx.sessions() as session:
            have = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.source == DEMO_SOURCE))
        if have:
            click.echo(f"demo data already in {safe_url(ctx.config.database_url)} ({have} tickets)")
        else:
            run_demo(ctx)
        _demo_admin(ctx)
    else:
        run_sync(ctx, trigger="startup")
    _serve(ctx, host, port, schedules=True)


def _demo_admin(ctx: Context) -> None:
    """The demo's first run makes an admin with a random password and prints it, this once."""
    import secrets

    from service.store.db import transaction
    from service.store.models import User
    from service.store.users import add_user

    with transaction(ctx.sessions) as session:
        if session.scalar(select(func.count()).select_from(User)):
            return
        password = secrets.token_urlsafe(12)
        add_user(session, "admin", "admin", password)
    click.echo(f"log in as admin with the password {password} (shown this once; "
               "`partnerscope users add NAME --role admin` adds more)")


def _serve(ctx: Context, host: str, port: int, schedules: bool = False) -> None:
    """Serve with waitress; with `schedules` (`run`) the sources' schedules fire in this process,
    and [queue] is not used: `run` is the one-process setup."""
    import threading
    from dataclasses import replace

    from waitress.server import create_server

    from service.jobs.schedules import Schedules
    from service.jobs.ticks import run_tick

    from service.store.models import User
    from service.web import create_app

    sessions = ctx.sessions  # opens the engine here, so that the command disposes of it however it ends
    config = replace(ctx.config, queue=None) if schedules else ctx.config
    app = create_app(config, engine=ctx.engine, applier_process=True)
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
    with ctx.sessions() as session:
        if not session.scalar(select(func.count()).select_from(User)):
            click.echo("no users yet: add one with `partnerscope users add NAME --role admin` to log in", err=True)
    click.echo(f"serving on http://{printable(host)}:{port}/ (Ctrl+C to stop)")
    stop = threading.Event()
    ticks = Schedules(config.sources if schedules else (),
                      lambda source, tick: run_tick(sessions, config, source, tick, stop))
    applier.start()  # applies stored webhook deliveries, including any left by an earlier run
    ticks.start()
    try:
        server.run()
    finally:
        stop.set()  # a sync in hand ends after its page
        ticks.stop(wait=True)
        applier.stop()
