"""The tickets behind the numbers: a filterable list, and each ticket with its timeline and evidence."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest, NotFound

from service.store.report import FilterError
from service.store.tickets import PAGES, ROLES, SIDES, TicketFilters, TicketView, ticket_list, ticket_view
from service.web.context import FILTER_ARGS, chosen_partner, filters, partner_names, state

tickets = Blueprint("tickets", __name__)
LIST_ARGS = ("project", "since", "until", "partner", "kind", "side", "role", "area", "q")


@tickets.get("/tickets")
def ticket_index() -> str:
    config, sessions = state()
    chosen = ticket_filters()
    with sessions() as session:
        rows, more = ticket_list(session, chosen)
    kept = {k: v for k, v in request.args.items() if k in LIST_ARGS and v}
    partners = partner_names(config)
    return render_template("tickets.html", rows=rows, more=more, chosen=chosen, kept=kept, sides=SIDES, roles=ROLES,
                           partners=partners, report_args={k: v for k, v in kept.items() if k in FILTER_ARGS})


@tickets.get("/tickets/<int(max=2147483647):ticket_id>")  # a larger id is no row: 404, not an overflow
def ticket_page(ticket_id: int) -> str:
    return render_template("ticket.html", view=stored_ticket(ticket_id))


def stored_ticket(ticket_id: int) -> TicketView:
    """The ticket's page data (the page's and the API's); no such ticket is a 404."""
    _, sessions = state()
    with sessions() as session:
        view = ticket_view(session, ticket_id)
    if view is None:
        raise NotFound(f"No ticket {ticket_id} is stored.")
    return view


def ticket_filters() -> TicketFilters:
    """The ticket list's filters of this request (the pages' and the API's); a bad value is a 400."""
    try:
        return TicketFilters(report=filters(), kind=request.args.get("kind") or None,
                             side=request.args.get("side") or None, role=request.args.get("role") or None,
                             area=request.args.get("area") or None, text=request.args.get("q") or None,
                             partner=chosen_partner(state()[0]), page=whole_number("page", PAGES) or 1)
    except FilterError as exc:
        raise BadRequest(str(exc)) from None


def whole_number(name: str, largest: int) -> int | None:
    """The argument `name` as a whole number from 1 to `largest`, None when it is absent; anything
    else is a 400 (a sign, a space, "²", which is a digit to `isdigit` but not to `int`)."""
    value = request.args.get(name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(largest)) and 1 <= int(value) <= largest):
        raise BadRequest(f"'{name}' must be a whole number from 1 to {largest}.")
    return int(value)
