"""`partnerscope worker`: the schedules, delivery application and pruning, and the queue."""
from __future__ import annotations

import threading

import click

from service.commands.context import Context, pass_ctx


@click.command()
@pass_ctx
def worker(ctx: Context) -> None:
    """Sync the sources on their schedules, apply webhook deliveries (retrying failed ones) and
    prune old records; with [queue] url, also run the jobs on the queue. SIGTERM or Ctrl+C stops
    it once the page in hand has committed."""
    from service.jobs.stopping import stop_on_signals
    from service.jobs.worker import Worker

    config = ctx.config
    for source in config.sources:
        if source.scheduled:
            source.token()  # a missing token stops the worker before its first tick
    stop = threading.Event()
    if config.queue is not None:
        from service.jobs.queue import connect

        Worker(ctx.sessions, config, stop, connect(config.queue)).run()  # RQ takes SIGTERM and SIGINT
        return
    with stop_on_signals(stop, interrupt=True):
        Worker(ctx.sessions, config, stop).run()
