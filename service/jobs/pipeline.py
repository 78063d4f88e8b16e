"""The step every ingestion path shares: store a page, regroup people if needed, attribute."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from connectors.jira_context import JiraContext
from connectors.records import ParsedTicket
from service.store.aliases import learn_aliases
from service.jobs.classify import Classifier
from service.config import Config
from service.store.identity import affected_tickets, recompute_people
from service.store.statistics import Statistics
from service.store.directory import Directory
from service.store.upserts import store_tickets, ticket_ids_of


@dataclass(slots=True)
class PageResult:
    tickets: int = 0
    events: int = 0
    attributions: int = 0
    skipped_stale: int = 0  # copies older than (or as old as) the stored ones
    refused: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, why) another issue's identity
    incomplete: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, what is missing) as stored
    cut: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, what was cut to its column)


def store_and_attribute(session: Session, parsed: list[ParsedTicket], directory: Directory,
                        classifier: Classifier, config: Config, context: JiraContext | None = None,
                        statistics: Statistics | None = None) -> PageResult:
    """Upsert one page and (re-)attribute what it changed, in the caller's transaction.

    `context` is the Jira run's: the user ids it learnt are stored with the page, and accounts
    that turn out to be another id of a user are folded into it (`service.store.aliases`).
    `statistics` is a bulk run's: it keeps PostgreSQL's planner statistics up with the tables
    the run grows (`service.store.statistics`).
    """
    stored = store_tickets(session, parsed, directory, config.phases.phase)
    in_page = set(stored.ticket_ids)  # attributed below in any case
    folded: list[int] = []
    if context is not None and context.users.pending:
        users = context.users
        folded = learn_aliases(session, directory, "jira", users.take_new(), users.take_conflicts(), users.own)
    if stored.new_accounts or folded:
        # A new account may be a known person's (same email, [[people]], an earlier merge):
        # then tickets attributed to the old grouping are attributed again.
        touched = recompute_people(session, config, directory)
        if touched:
            classifier.reclassify(session, [t for t in affected_tickets(session, touched) if t not in in_page])
    # A new ticket (inserted just now) is attributed from the records in hand. An updated one from
    # the database: its stored history is the union of every copy, and a tracker may send only what
    # changed (GitHub's issue events since the bookmark), which alone would lose older acts.
    # A folded account's tickets too: their records in hand still name the alias.
    again = stored.updated_ids | set(folded)
    inserted = [(tid, item) for tid, item in stored.stored if tid not in again]
    attributed = classifier.attribute_new(session, inserted)
    if statistics is not None:
        statistics.stored_tickets(session, len(inserted))
    attributed.attributions += classifier.reclassify(session, sorted(again & in_page)).attributions
    if folded:
        classifier.reclassify(session, sorted(set(folded) - in_page))
    # Tickets that pull requests in this page say (or no longer say) they work on: their
    # attributions include (or included) those pull requests' acts.
    targets = {key for _, item in stored.stored for key in item.links} | stored.dropped_links
    if targets:
        classifier.reclassify(session, [tid for tid in ticket_ids_of(session, targets) if tid not in in_page])
    incomplete = [(item.ticket.key, "; ".join(item.incomplete)) for _, item in stored.stored if item.incomplete]
    return PageResult(stored.tickets, stored.events, attributed.attributions, stored.skipped_stale,
                      stored.refused, incomplete, stored.cut)
