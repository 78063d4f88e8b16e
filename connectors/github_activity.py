"""A repository's deployments and releases as neutral records: the evidence of who deploys.

Deployments and releases belong to no issue. `parse_repository_activity` reads them (REST
shapes, or GraphQL's turned into REST shapes) as events of one per-repository pseudo-ticket,
which `split_activity` cuts into one pseudo-ticket per deployment and per release
(`owner/repo@d<id>`, `owner/repo@rel<id>`). https://docs.github.com/en/rest/deployments ,
https://docs.github.com/en/rest/releases .
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from connectors.errors import SkippableError
from connectors.github_parse import Accounts, item_id, optional_datetime, parse_datetime, str_or_none
from connectors.records import Event, ParsedTicket, Ticket

ACTIVITY_SUFFIX = "@deployments"


def status_event_id(deployment_id: str, at: datetime, state: str | None) -> str:
    """The external id of a deployment status: `ds<deployment id>@<UTC time>:<state>`.

    GraphQL's `DeploymentStatus` has no `databaseId` (REST's numeric id), only an opaque node id
    (https://docs.github.com/en/graphql/reference/objects#deploymentstatus), so the id is made of
    what both APIs give alike. Statuses are never edited, only added, so it is stable; two
    statuses of one deployment with the same state in the same second count as one.
    """
    return f"ds{deployment_id}@{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}:{state or ''}"


def activity_key(repo: str) -> str:
    """Key of the per-repository pseudo-ticket that carries deployments and releases."""
    return f"{repo}{ACTIVITY_SUFFIX}"


def parse_repository_activity(
    repository: Mapping[str, Any], source: str, *, deployments: Iterable[Any] = (),
    statuses: Mapping[str, Iterable[Any]] | None = None, releases: Iterable[Any] = (),
) -> ParsedTicket | None:
    """A repository's deployments, their statuses and its releases as events of one pseudo-ticket.

    Deployments and releases belong to no issue, yet they are the evidence of who deploys; they
    hang off `owner/repo@deployments` (type "Deployment", kind "deployment"), which
    `split_activity` then cuts into one pseudo-ticket per deployment and release. `statuses` maps a
    deployment id to its statuses (REST's or `statuses_from_graphql`'s: a status's id is made of
    its deployment, time and state, see `status_event_id`, and its from_value names its
    deployment). Drafts (no `published_at`) are no release yet. None when there is nothing to say.
    """
    repo = repository.get("full_name")
    if not isinstance(repo, str) or "/" not in repo:
        raise SkippableError("repository has no full_name")
    accounts = Accounts()
    events: list[Event] = []
    for position, deployment in enumerate(deployments):
        if not isinstance(deployment, dict):
            raise SkippableError(f"deployment #{position + 1} is not an object")
        deployment_id = item_id(deployment, "deployment", position)
        environment = str_or_none(deployment.get("environment"))
        events.append(Event(f"d{deployment_id}", "deploy",
                            parse_datetime(deployment.get("created_at"), f"deployment {deployment_id} time"),
                            accounts.user(deployment.get("creator")), field=environment,
                            to_value=str_or_none(deployment.get("ref"))))
        for index, status in enumerate((statuses or {}).get(deployment_id, ())):
            if not isinstance(status, dict):
                raise SkippableError(f"status #{index + 1} of deployment {deployment_id} is not an object")
            state = str_or_none(status.get("state"))
            at = parse_datetime(status.get("created_at"), f"status #{index + 1} of deployment {deployment_id} time")
            events.append(Event(status_event_id(deployment_id, at, state), "deploy", at,
                                accounts.user(status.get("creator")),
                                field=str_or_none(status.get("environment")) or environment,
                                # which deployment this status is of, so the rules pair them exactly
                                from_value=f"d{deployment_id}",
                                to_value=state))
    for position, release in enumerate(releases):
        if not isinstance(release, dict):
            raise SkippableError(f"release #{position + 1} is not an object")
        if release.get("draft") or not release.get("published_at"):
            continue
        release_id = item_id(release, "release", position)
        events.append(Event(f"rel{release_id}", "release",
                            parse_datetime(release.get("published_at"), f"release {release_id} time"),
                            accounts.user(release.get("author")),
                            field="prerelease" if release.get("prerelease") else None,
                            to_value=str_or_none(release.get("tag_name"))))
    if not events:
        return None
    events = list({event.external_id: event for event in reversed(events)}.values())
    events.sort(key=lambda event: (event.at, event.external_id))
    created = optional_datetime(repository.get("created_at"), "repository created_at") or events[0].at
    key = activity_key(repo)
    html = repository.get("html_url")
    ticket = Ticket(
        source=source, external_id=key, key=key, project=repo, type_name="Deployment", kind="deployment",
        title=f"Deployments and releases of {repo}", status="open", created=min(created, events[0].at),
        updated=events[-1].at, url=f"{html}/deployments" if isinstance(html, str) else None,
    )
    return ParsedTicket(ticket=ticket, accounts=accounts.all(), events=events)


def split_activity(activity: ParsedTicket) -> list[ParsedTicket]:
    """One pseudo-ticket per deployment (with its statuses) and per release, keyed
    `owner/repo@d<id>` and `owner/repo@rel<id>`.

    Attribution keeps one act per ticket, role and person; on a single per-repository ticket a
    person's five hundred deployments would count once, and a later one would never show in a
    date range. As tickets of their own, each deployment and release counts.
    """
    groups: dict[str, list[Event]] = {}
    for event in activity.events:
        act = event.external_id
        if event.kind == "deploy" and act.startswith("ds") and event.from_value:
            act = event.from_value  # a status goes with its deployment
        groups.setdefault(act, []).append(event)
    repo = activity.ticket.project
    tickets = []
    for act, events in groups.items():
        key = f"{repo}@{act}"
        release = events[0].kind == "release"
        title = (f"Release {events[0].to_value or act} of {repo}" if release
                 else f"Deployment {act[1:]} of {repo} to {events[0].field or '(no environment)'}")
        actors = {e.actor for e in events}
        ticket = replace(activity.ticket, external_id=key, key=key, type_name="Release" if release else "Deployment",
                         title=title, created=events[0].at, updated=events[-1].at)
        tickets.append(ParsedTicket(ticket=ticket, accounts=[a for a in activity.accounts if a.ref in actors],
                                    events=events))
    return tickets
