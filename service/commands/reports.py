"""Reading the numbers: `report`, `statuses`, `people` and its merges."""
from __future__ import annotations

import json
from typing import Any

import click

from service.commands.context import Context, pass_ctx
from service.store.db import transaction
from service.terminal import fit, pad, printable, widest

ACCOUNT_COLUMN, ACCOUNT_COLUMN_MAX, NAME_COLUMN = 40, 60, 28


@click.command()
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
    lines += [""] + _signal_lines(data["signals"])
    quality = quality_lines(data["data_quality"])
    if quality:
        lines += ["", "data quality:"] + [printable(f"  {line}") for line in quality]
    return "\n".join(lines)


def _signal_lines(signals: dict[str, Any]) -> list[str]:
    """The signals for all partners: recent window beside the whole period, and any shift."""
    first = next(iter(signals.values()), None)
    if first is None or first["whole"]["from"] is None:
        return ["signals: no acts in the filtered range"]
    recent, whole = first["recent"], first["whole"]
    lines = [f"signals (recent window {recent['from']} to {recent['until']}; "
             f"whole period {whole['from']} to {whole['until']})",
             f"{'signal':<19} {'kind':<8} {'recent':>8} {'n':>6}  {'assessment':<18} {'whole':>8}  "
             f"{'assessment':<18} shift"]
    for name, entry in signals.items():
        r, w = entry["recent"], entry["whole"]
        shift = entry["shift"]
        moved = "–" if not shift else (f"{shift['month']}: {_value(entry['unit'], shift['before'])} → "
                                       f"{_value(entry['unit'], shift['after'])}")
        if entry["kind"] == "declared":
            lines.append(printable(f"{name:<19} {entry['kind']:<8} {'':>8} {'':>6}  {r['assessment']}"))
            continue
        lines.append(f"{name:<19} {entry['kind']:<8} {_value(entry['unit'], r['value']):>8} {r['n']:>6}  "
                     f"{r['assessment']:<18} {_value(entry['unit'], w['value']):>8}  {w['assessment']:<18} {moved}")
    return lines


def _value(unit: str, value: float | None) -> str:
    if value is None:
        return "–"
    if unit.endswith("_share"):
        return f"{value * 100:.0f}%"
    return f"{value:.2f}"


@click.command()
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


@click.group(invoke_without_command=True)
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


@people.command("assign")
@click.argument("account")
@click.argument("organisation")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day it acted for ORGANISATION (inclusive).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day it acted for ORGANISATION (inclusive).")
@pass_ctx
def people_assign(ctx: Context, account: str, organisation: str, since: Any, until: Any) -> None:
    """Record that ACCOUNT acted for ORGANISATION (from --since to --until), as the people page does."""
    from service.jobs.people import assign_account

    with transaction(ctx.sessions) as session:
        tickets = assign_account(session, ctx.config, account, organisation, since and since.date(),
                                 until and until.date(), by="command line")
    click.echo(f"assigned {printable(account)} to {printable(organisation)}; attributed {tickets} tickets again")


@people.command("unassign")
@click.argument("assignment_id", type=click.IntRange(1, 2**31 - 1))
@pass_ctx
def people_unassign(ctx: Context, assignment_id: int) -> None:
    """Take back assignment ASSIGNMENT_ID (`people assignments` lists them)."""
    from service.jobs.people import unassign_account

    with transaction(ctx.sessions) as session:
        account, tickets = unassign_account(session, ctx.config, assignment_id)
    click.echo(f"took back assignment {assignment_id} of {printable(account)}; attributed {tickets} tickets again")


@people.command("assignments")
@pass_ctx
def people_assignments(ctx: Context) -> None:
    """Every assignment, newest first: id, account, organisation, span, who and when."""
    from service.store.assignments import assignments

    with ctx.sessions() as session:
        for a in assignments(session):
            span = f"{a.since or '…'} to {a.until or '…'}"
            click.echo(printable(f"{a.id:>6}  {a.account}  {a.organisation}  {span}  by {a.by} at "
                                 f"{a.at:%Y-%m-%d %H:%M}"))


def _regroup(ctx: Context, action: str, a: str, b: str) -> None:
    from service.jobs.people import regroup_accounts

    with transaction(ctx.sessions) as session:
        tickets = regroup_accounts(session, ctx.config, action, a, b)
    click.echo(f"{action}d {printable(a)} and {printable(b)}; attributed {tickets} tickets again")
