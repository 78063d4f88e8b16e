"""`partnerscope users` and `partnerscope tokens`: who may log in to the dashboard and call the API."""
from __future__ import annotations

import sys
from typing import Any

import click

from service.store.users import ROLES
from service.terminal import printable


@click.group()
def users() -> None:
    """Dashboard users: viewers read, admins may also change identities and replay deliveries."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.pass_obj
def add(ctx: Any, name: str, role: str) -> None:
    """Add a user. The password is asked on a terminal, else read from stdin (one line)."""
    from service.store.db import transaction
    from service.store.users import add_user, check_name

    check_name(name)  # before asking for a password
    password = _password()
    with transaction(ctx.sessions) as session:
        add_user(session, name, role, password)
    click.echo(printable(f"added {name} ({role})"))


@users.command("list")
@click.pass_obj
def list_users(ctx: Any) -> None:
    """Users, with their role, when they were added and how many live API tokens they hold."""
    from service.store.users import users as all_users

    with ctx.sessions() as session:
        rows = all_users(session)
    for u in rows:
        click.echo(printable(f"{u.name}  {u.role}  added {u.created_at:%Y-%m-%d}  {u.tokens} tokens"))
    if not rows:
        click.echo("no users yet: `partnerscope users add NAME --role admin` adds one", err=True)


@click.group()
def tokens() -> None:
    """Personal API tokens, sent as `Authorization: Bearer <token>`."""


@tokens.command("create")
@click.argument("user")
@click.pass_obj
def create(ctx: Any, user: str) -> None:
    """Make a token for USER and print it: it is shown this once and kept only as a hash."""
    from service.store.db import transaction
    from service.store.users import create_token

    with transaction(ctx.sessions) as session:
        token = create_token(session, user)
    click.echo(token)


@tokens.command("revoke")
@click.argument("user")
@click.pass_obj
def revoke(ctx: Any, user: str) -> None:
    """Revoke every token of USER."""
    from service.store.db import transaction
    from service.store.users import revoke_tokens

    with transaction(ctx.sessions) as session:
        count = revoke_tokens(session, user)
    click.echo(printable(f"revoked {count} tokens of {user}"))


def _password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError("no password: type one on a terminal, or give it on stdin (one line).")
    return line.rstrip("\r\n")
