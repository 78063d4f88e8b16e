"""The people page: every person (merged accounts once) with organisation and activity, the
unaffiliated first, as `partnerscope people` counts them; and for an admin, the forms that settle
who someone is: assign an account to an organisation (for a span of days), merge two accounts,
take an assignment back. Each change attributes the tickets it touches again before it answers."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, Forbidden

from service.jobs.people import assign_account, regroup_accounts, unassign_account
from service.store.assignments import AssignmentError, assignments
from service.store.db import transaction
from service.store.identity import IdentityError
from service.store.report import people as all_people
from service.terminal import printable
from service.web.context import state, unaffiliated_only

people = Blueprint("people", __name__)
SHOWN = 500


@people.get("/people")
def people_page() -> str:
    config, sessions = state()
    only = unaffiliated_only()
    with sessions() as session:
        rows = all_people(session, config, unaffiliated_only=only)
        assigned = assignments(session)
    rows.sort(key=lambda p: (p.side != "unknown", -p.activity, p.account))  # the unaffiliated first
    organisations = [o.name for o in config.organisations]
    return render_template("people.html", rows=rows[:SHOWN], total=len(rows), only=only,
                           admin=g.user.role == "admin", organisations=organisations, assigned=assigned,
                           configured=set(organisations))


@people.before_request
def admins_change() -> None:
    """Anyone may read the page; only an admin may change who people are."""
    if request.method == "POST" and g.get("user") is not None and g.user.role != "admin":
        raise Forbidden("Only an admin can change who people are; ask one, or use `partnerscope people`.")


@people.post("/people/assign")
def assign() -> Response:
    since, until = _day("since"), _day("until")
    account, organisation = _field("account"), _field("organisation")
    return _change(lambda session, config: assign_account(session, config, account, organisation, since, until,
                                                            by=g.user.name),
                   lambda n: f"Assigned {account} to {organisation}"
                             f"{_span(since, until)}; attributed {n} tickets again.")


@people.post("/people/merge")
def merge() -> Response:
    a, b = _field("account_a"), _field("account_b")
    return _change(lambda session, config: regroup_accounts(session, config, "merge", a, b),
                   lambda n: f"Merged {a} and {b}; attributed {n} tickets again.")


@people.post("/people/assignments/<int(max=2147483647):assignment_id>/remove")
def unassign(assignment_id: int) -> Response:
    return _change(lambda session, config: unassign_account(session, config, assignment_id),
                   lambda done: f"Took back assignment {assignment_id} of {done[0]}; "
                                f"attributed {done[1]} tickets again.")


def _change(act: Callable[[Any, Any], Any], said: Callable[[Any], str]) -> Response:
    """Do an admin's change in one transaction behind the write gate; say how it went on the page."""
    config, sessions = state()
    try:
        with current_app.extensions["partnerscope"]["gate"].apply(), transaction(sessions) as session:
            done = act(session, config)
    except (AssignmentError, IdentityError) as exc:
        flash(printable(str(exc)), "error")
    else:
        flash(printable(said(done)), "done")
    return redirect(url_for("people.people_page"), 303)


def _field(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise BadRequest(f"'{name}' is required.")
    return value


def _day(name: str) -> date | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date like 2025-01-31 or left empty.") from None


def _span(since: date | None, until: date | None) -> str:
    if since and until:
        return f" from {since} to {until}"
    return f" from {since}" if since else f" until {until}" if until else ""
