"""What every face of the app reads from a request: the configuration, the sessions, the filters."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import BadRequest

from service.config import Config
from service.store.report import FilterError, Filters

FILTER_ARGS = ("project", "since", "until", "partner")


def state() -> tuple[Config, Any]:
    """The app's configuration and session factory (set by `create_app`)."""
    ext = current_app.extensions["partnerscope"]
    return ext["config"], ext["sessions"]


def filters() -> Filters:
    """The report filters of this request; a bad value is a 400 with one sentence."""
    def day(name: str) -> date | None:
        value = request.args.get(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            shown = f", not {value!r}" if len(value) <= 40 else ""
            raise BadRequest(f"'{name}' must be a date like 2025-01-31{shown}.") from None

    try:
        return Filters(project=request.args.get("project") or None, since=day("since"), until=day("until"))
    except FilterError as exc:
        raise BadRequest(str(exc)) from None


def filter_args() -> dict[str, str]:
    """The filters of this request, for links that keep them (and nothing else the URL carried)."""
    return {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}


def partner_names(config: Config) -> list[str]:
    """The configured partner organisations, in the configuration's order (the pickers' choices)."""
    return [o.name for o in config.organisations if o.side == "partner"]


def chosen_partner(config: Config) -> str | None:
    """The partner organisation this request picks (`partner`), or None for all; one the
    configuration does not define is a 400 naming those it does."""
    value = request.args.get("partner") or None
    partners = partner_names(config)
    if value is not None and value not in partners:
        shown = f", not {value!r}" if len(value) <= 40 else ""
        raise BadRequest(f"'partner' must be a partner organisation of the configuration "
                         f"({', '.join(partners) or 'none is configured'}){shown}.")
    return value


def unaffiliated_only() -> bool:
    """Whether this request asks for the unaffiliated people only (`unaffiliated=1`)."""
    only = request.args.get("unaffiliated") or ""
    if only not in ("", "1"):
        raise BadRequest("'unaffiliated' must be 1 or left out.")
    return only == "1"
