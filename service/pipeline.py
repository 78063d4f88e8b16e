"""The step every ingestion path shares: store a page, regroup people if needed, attribute."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.records import ParsedTicket
from service.classify import Classifier
from service.config import Config
from service.identity import affected_tickets, recompute_people
from service.store import Directory, store_tickets, ticket_ids_of


@dataclass(slots=True)
class PageResult:
    tickets: int = 0
    events: int = 0
    attributions: int = 0
    skipped_stale: int = 0  # copies older than (or as old as) the stored ones


def store_and_attribute(session: Session, parsed: list[ParsedTicket], directory: Directory,
                        classifier: Classifier, config: Config) -> PageResult:
    """Upsert one page and (re-)attribute what it changed, in the caller's transaction."""
    stored = store_tickets(session, parsed, directory, config.phases.phase)
    in_page = set(stored.ticket_ids)  # attributed below in any case
    if stored.new_accounts:
        # A new account may be a known person's (same email, [[people]], an earlier merge):
        # then tickets attributed to the old grouping are attributed again.
        touched = recompute_people(session, config, directory)
        if touched:
            classifier.reclassify(session, [t for t in affected_tickets(session, touched) if t not in in_page])
    # A new ticket is attributed from the records in hand. An updated one from the database:
    # its stored history is the union of every copy, and a tracker may send only what changed
    # (GitHub's issue events since the bookmark), which alone would lose older acts.
    new_copies = [(tid, item) for tid, item in stored.stored if tid not in stored.updated_ids]
    attributed = classifier.attribute_stored(session, new_copies)
    attributed.attributions += classifier.reclassify(session, sorted(stored.updated_ids)).attributions
    # Tickets that pull requests in this page say (or no longer say) they work on: their
    # attributions include (or included) those pull requests' acts.
    targets = {key for _, item in stored.stored for key in item.links} | stored.dropped_links
    if targets:
        classifier.reclassify(session, [tid for tid in ticket_ids_of(session, targets) if tid not in in_page])
    return PageResult(stored.tickets, stored.events, attributed.attributions, stored.skipped_stale)
