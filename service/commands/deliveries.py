"""`partnerscope deliveries`: list stored webhook deliveries, replay them, prune them."""
from __future__ import annotations

from typing import Any

import click

from service.terminal import printable


@click.group(invoke_without_command=True)
@click.option("--failed", is_flag=True, help="Only the deliveries whose application failed.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000), help="How many, newest first.")
@click.pass_context
def deliveries(click_ctx: click.Context, failed: bool, limit: int) -> None:
    """Webhook deliveries, newest first: delivery id, source, event, state, received, error."""
    if click_ctx.invoked_subcommand is not None:
        return
    from service.store.deliveries import listing

    ctx: Any = click_ctx.obj
    with ctx.sessions() as session:
        rows = listing(session, failed, limit)
    for d in rows:
        error = f"  {d.error}" if d.error else ""
        click.echo(printable(f"{d.delivery_id}  {d.source}  {d.event}  {d.state}  "
                             f"{d.received_at:%Y-%m-%d %H:%M:%S}{error}"))
    if not rows:
        click.echo("no failed deliveries" if failed else "no deliveries", err=True)


@deliveries.command("replay")
@click.argument("ids", nargs=-1)
@click.option("--failed", is_flag=True, help="Every failed delivery.")
@click.pass_obj
def replay(ctx: Any, ids: tuple[str, ...], failed: bool) -> None:
    """Apply deliveries again: by delivery id (ID...), or every failed one (--failed)."""
    from service.jobs.deliveries import DeliveryApplier
    from service.store.db import transaction
    from service.store.deliveries import requeue

    if bool(ids) == failed:
        raise click.UsageError("name delivery ids, or give --failed (not both).")
    with transaction(ctx.sessions) as session:
        queued = requeue(session, ids, failed)
    unknown = sorted(set(ids) - set(queued))
    for delivery_id in unknown:
        click.echo(printable(f"no delivery {delivery_id} is stored"), err=True)
    applier = DeliveryApplier(ctx.sessions, ctx.config)
    applier.drain()
    from service.store.deliveries import FAILED, listing

    with ctx.sessions() as session:
        still = [d for d in listing(session, failed_only=True, limit=100_000) if d.delivery_id in set(queued)]
    click.echo(f"replayed {len(queued)} deliveries: {len(queued) - len(still)} applied, {len(still)} {FAILED}")
    for d in still:
        click.echo(printable(f"  {d.delivery_id}: {d.error}"), err=True)
    if unknown or still:
        raise SystemExit(1)


@deliveries.command("prune")
@click.pass_obj
def prune_command(ctx: Any) -> None:
    """Delete deliveries older than [webhooks] retention_days (failed ones are kept twice as long)."""
    from service.store.db import transaction
    from service.store.deliveries import prune

    with transaction(ctx.sessions) as session:
        gone = prune(session, ctx.config.webhook_retention_days)
    click.echo(f"pruned {gone} deliveries older than {ctx.config.webhook_retention_days} days")
