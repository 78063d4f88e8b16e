"""Serving: `serve` (the app, its API and webhooks, under gunicorn) and `run` (the main job: demo
or sync, then serve in this one process)."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click
from sqlalchemy import func, select

from service.commands.context import Context, notice, pass_ctx
from service.commands.ingest import run_demo, run_sync
from service.store.db import safe_url
from service.terminal import printable

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's name, read when it is first imported
METRICS_DIR_PREFIX = "partnerscope-metrics-"  # then the master's process id


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the dashboard and API with [server] workers processes (gunicorn); fires no schedule."""
    workers = ctx.config.workers  # a mistake in the configuration stops the command before anything else
    bind = _bindable(host, port)
    with _metrics_directory():  # before the web package is imported, which imports prometheus_client
        from service.web.server import Server

        with ctx.sessions() as session:  # the schema is upgraded here, once, before any worker starts
            _announce(ctx, session, host, port)
        ctx.engine.dispose()  # the workers are forked: none may share the master's connections
        Server(ctx.config, bind, workers).serve()


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
    _serve_in_process(ctx, host, port)


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


def _serve_in_process(ctx: Context, host: str, port: int) -> None:
    """`run`: waitress's threads in this one process, beside the delivery applier and the sources'
    schedules. [queue] is not used: `run` is the one-process setup. SIGTERM stops it as Ctrl+C
    does, with status 0: a sync in hand ends after its page."""
    import signal
    import threading
    from dataclasses import replace

    from waitress.server import create_server

    from service.jobs.schedules import Schedules
    from service.jobs.ticks import run_tick
    from service.web import create_app

    sessions = ctx.sessions  # opens the engine here, so that the command disposes of it however it ends
    config = replace(ctx.config, queue=None)
    app = create_app(config, engine=ctx.engine, applier_process=True)
    applier = app.extensions["partnerscope"]["applier"]
    channels: dict[Any, Any] = {}  # waitress registers its sockets here: ours to close if it fails
    try:
        server = create_server(app, map=channels, host=host, port=port, threads=8)
    except ValueError:  # waitress could not resolve the host name
        raise _not_a_host(host) from None
    except OSError as exc:  # a port in use, or an address that is not this machine's
        for channel in list(channels.values()):
            channel.close()
        raise _cannot_serve(host, port, exc) from None
    with ctx.sessions() as session:
        _announce(ctx, session, host, port)
    stop = threading.Event()
    ticks = Schedules(config.sources, lambda source, tick: run_tick(sessions, config, source, tick, stop))
    applier.start()  # applies stored webhook deliveries, including any left by an earlier run
    ticks.start()
    previous = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop.set()  # a sync in hand ends after its page
        ticks.stop(wait=True)
        applier.stop()


def _exit_quietly(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)

def _announce(ctx: Context, session: Any, host: str, port: int) -> None:
    """The webhook endpoints' URLs, a word when no one can log in yet, and where it serves."""
    from service.store.models import User
    from service.web.webhooks import hooks_of

    for kind, name in sorted(hooks_of(ctx.config)):
        click.echo(f"webhooks for {printable(name)} at http://{printable(host)}:{port}/webhooks/{kind}/{printable(name)}")
    if not session.scalar(select(func.count()).select_from(User)):
        notice("web.no_users", "no users yet: add one with `partnerscope users add NAME --role admin` to log in")
    click.echo(f"serving on http://{printable(host)}:{port}/ (Ctrl+C to stop)")


def _bindable(host: str, port: int) -> str:
    """The address gunicorn is to bind, as `address:port`, once this process could bind it: a port
    in use or a host that is not this machine's is one sentence here, before any worker starts."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError, ValueError):  # gaierror is an OSError; idna refuses a label too long
        raise _not_a_host(host) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise _cannot_serve(host, port, exc) from None
    return f"[{address[0]}]:{port}" if family == socket.AF_INET6 else f"{address[0]}:{port}"


def _not_a_host(host: str) -> click.BadParameter:
    return click.BadParameter(f"{printable(host)} is not a host name or address of this machine.", param_hint="'--host'")


def _cannot_serve(host: str, port: int, exc: OSError) -> click.ClickException:
    return click.ClickException(f"cannot serve on {printable(host)} port {port}: {exc.strerror or exc}.")


@contextmanager
def _metrics_directory() -> Iterator[str]:
    """A fresh folder for the workers' request figures (prometheus_client's multiprocess mode),
    named in the environment before the workers fork and before prometheus_client is imported,
    which reads it then; removed when the master ends. Workers never leave through here."""
    _sweep_metrics_directories()
    path = tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{os.getpid()}-")
    before = os.environ.get(METRICS_DIR_ENV)
    os.environ[METRICS_DIR_ENV] = path
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(METRICS_DIR_ENV, None)
        else:
            os.environ[METRICS_DIR_ENV] = before
        shutil.rmtree(path, ignore_errors=True)


def _sweep_metrics_directories() -> None:
    """Remove the folders of masters that were killed (SIGKILL leaves no chance to clean up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{METRICS_DIR_PREFIX}*-*"):
        pid = folder.name[len(METRICS_DIR_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # another user's process, alive: its folder stays
            pass
