"""Offline ingestion: exported Jira JSON files and the bundled demo scenario.

Both run through the same parser, store and classifier as a live sync. An export is read as
a stream (`connectors.exports`) and stored 500 issues at a time, each file in one
transaction: a file that cannot be read, is not an export, or meets a database error is
rolled back and refused whole, by name; a malformed issue is refused alone and the rest of
its file is kept. What was refused or changed on the way (a field cut to size) is reported
as notices, one line each, naming the file and the ticket.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import SkippableError
from connectors.exports import MAX_TEXT, ExportError, document_maps, read_export
from connectors.jira_parse import issues_in_document, parse_issue
from connectors.jira_context import JiraContext
from connectors.records import ParsedTicket
from service.jobs.classify import Classifier
from service.config import Config
from service.store.db import transaction
from service.jobs.pipeline import store_and_attribute
from service.store.statistics import Statistics
from service.progress import Reporter
from service.store.directory import Directory, jira_context

DEMO_SOURCE = "demo-jira"
BATCH = 500  # issues parsed, stored and attributed together, then dropped
MAX_NOTICES = 100  # notices kept per file; past that they are only counted


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing an import reports beside its summary: a refused issue, a field cut to size, …

    `refused` marks an item that was not stored (the command then exits 1).
    """

    file: str
    ticket: str | None  # key ("SHOP-12", "acme/web#3"), else where it sits ("item 4", "line 9")
    message: str
    refused: bool = False

    def __str__(self) -> str:
        return f"{self.file}: {self.ticket}: {self.message}" if self.ticket else f"{self.file}: {self.message}"


@dataclass(slots=True)
class IngestResult:
    """What an import or the demo stored: counts of rows written, refused files, notices."""

    files: int = 0
    tickets: int = 0
    events: int = 0
    attributions: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[Notice] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether any file or item was refused."""
        return bool(self.refused) or any(notice.refused for notice in self.warnings)


class FileNotices:
    """The notices of one file, kept until the file commits (a refused file reports only its refusal)."""

    def __init__(self, file: str, limit: int = MAX_NOTICES) -> None:
        self.file, self.limit = file, limit
        self.notices: list[Notice] = []
        self.more = {True: 0, False: 0}  # past the limit: refused, other

    def add(self, ticket: str | None, message: str, refused: bool = False) -> None:
        if len(self.notices) < self.limit:
            self.notices.append(Notice(self.file, ticket, message, refused))
        else:
            self.more[refused] += 1

    def refuse(self, ticket: str | None, reason: str) -> None:
        self.add(ticket, f"refused: {reason}", refused=True)

    def cut(self, ticket: str | None, paths: list[str]) -> None:
        for path in paths:
            self.add(ticket, f"{path} was cut to {MAX_TEXT:,} characters")

    def done(self) -> list[Notice]:
        more = []
        if self.more[True]:
            more.append(Notice(self.file, None, f"{self.more[True]:,} more items refused", True))
        if self.more[False]:
            more.append(Notice(self.file, None, f"{self.more[False]:,} more notices"))
        return self.notices + more


def database_error(exc: SQLAlchemyError) -> str:
    """A database error in one line, without the SQL and parameters SQLAlchemy appends."""
    orig = getattr(exc, "orig", None) or exc
    return f"database error: {exc.__class__.__name__}: {(str(orig).strip().splitlines() or [''])[0]}"


def refuse_file(result: IngestResult, name: str, reason: str, factory: sessionmaker[Session],
                directory: Directory) -> None:
    """Record a refused file after its transaction rolled back; the accounts cache forgets its accounts."""
    result.refused.append((name, reason))
    with factory() as session:
        directory.reload(session)


def add_page(result: IngestResult, stored: Any) -> None:
    result.tickets += stored.tickets
    result.events += stored.events
    result.attributions += stored.attributions


def batches(items: Iterable[ParsedTicket], size: int = BATCH) -> Iterator[list[ParsedTicket]]:
    batch: list[ParsedTicket] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse_jira(raw: Any, source: str, config: Config, context: JiraContext | None = None) -> ParsedTicket:
    """The one call of the Jira parser for imports and the demo."""
    return parse_issue(raw, source, kind_of=config.kinds.kind, context=context)


def jira_tickets(path: Path, source: str, config: Config, notices: FileNotices,
                 context: JiraContext | None = None) -> Iterator[ParsedTicket]:
    """The parsed issues of one Jira export; ExportError when the file is not one.

    The first item decides: when it is not an issue, the file is not a Jira export and is
    refused whole; later items that are not issues, or are malformed, are refused alone.
    A search page that says it is one of several (its `total`, `isLast`, `nextPageToken`) is
    reported: the issues of the other pages are not in the file, not merely unchanged.
    """
    if context is not None:
        maps = document_maps(path, ("names", "schema"))
        context.learn_schema(maps.get("names"), maps.get("schema"))  # `expand=names,schema`: the rank field
    seen = False
    pages: dict[int, dict[str, Any]] = {}
    counts: dict[int, int] = {}
    for item in read_export(path, ("issues",), pages):
        counts[item.page] = counts.get(item.page, 0) + 1
        if item.error:
            notices.refuse(item.where, item.error)
            continue
        raw = item.value
        key = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else None
        if not seen and not (isinstance(raw, dict) and "key" in raw and "fields" in raw):
            try:
                issues_in_document(raw)
                reason = "is not a Jira issue (it has no 'key' and 'fields')"
            except SkippableError as exc:
                reason = str(exc)
            raise ExportError(f"{item.where} {reason}")
        seen = True
        try:
            parsed = _parse_jira(raw, source, config, context)
        except SkippableError as exc:
            notices.refuse(key or item.where, str(exc))
            continue
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError, OverflowError) as exc:
            # A shape no parser rule foresaw: this issue is refused by name, the run goes on.
            notices.refuse(key or item.where, f"has a shape that cannot be read ({type(exc).__name__}: {exc})")
            continue
        notices.cut(key or item.where, item.cut)
        yield parsed
    for page, meta in sorted(pages.items()):
        _page_notice(notices, meta, counts.get(page, 0), f"page {page}" if page else None)


def _page_notice(notices: FileNotices, meta: dict[str, Any], held: int, where: str | None) -> None:
    total, start = meta.get("total"), meta.get("startAt") or 0
    if isinstance(total, int) and isinstance(start, int) and total > start + held:
        notices.add(where, f"holds issues {start + 1}–{start + held} of the {total} its search found; "
                           "the others are not in this file, so their acts are not counted")
    elif meta.get("isLast") is False or meta.get("nextPageToken"):
        notices.add(where, "is one page of a search with more pages (isLast false); the issues of the "
                           "later pages are not in this file, so their acts are not counted")


def import_files(
    factory: sessionmaker[Session], config: Config, paths: Iterable[Path], source: str,
    reporter: Reporter | None = None, batch: int = BATCH,
) -> IngestResult:
    """Import Jira exports, each file in its own transaction; see the module docstring."""
    result = IngestResult()
    paths = list(paths)
    with factory() as session:
        directory = Directory(session)
        context = jira_context(session, directory)
    classifier = Classifier(config, directory)
    statistics = Statistics()
    for done, path in enumerate(paths, 1):
        notices = FileNotices(str(path))
        stored = IngestResult()
        try:
            with transaction(factory) as session:
                for parsed in batches(jira_tickets(path, source, config, notices, context), batch):
                    page = store_and_attribute(session, parsed, directory, classifier, config, context, statistics)
                    add_page(stored, page)
                    for key, reason in page.refused:
                        notices.refuse(key, reason)
                    for key, missing in page.incomplete:
                        notices.add(key, f"incomplete history: {missing}; acts in the missing part are not counted")
                    for key, what in page.cut:
                        notices.add(key, f"{what} was cut to fit its column")
        except (SkippableError, SQLAlchemyError) as exc:
            reason = database_error(exc) if isinstance(exc, SQLAlchemyError) else str(exc)
            refuse_file(result, str(path), reason, factory, directory)
            with factory() as session:  # what the rolled-back file taught about users is gone too
                context = jira_context(session, directory)
        else:
            result.files += 1
            add_page(result, stored)
            result.warnings += notices.done()
        if reporter:
            reporter.progress(done, len(paths))
    return result


def build_demo(
    factory: sessionmaker[Session], config: Config, tickets: int = 2000, batch: int = BATCH,
    reporter: Reporter | None = None, shift: bool = True,
) -> IngestResult:
    """Generate the demo scenario and ingest it as if synced from Jira Cloud, `batch` issues at a time.

    Each issue is parsed as soon as it is played and only a batch of parsed tickets is held, so
    memory stays flat at any size. Issues come in creation order, not in the `updated` order a
    sync pages them in: storing does not depend on the order, and `updated` order would hold every
    ticket still in flight (a few percent of them all), which grows with the size.

    `shift=False` builds the steady control scenario (no change in who does what over time).
    """
    from simulator.scenario import iter_issues

    result = IngestResult()
    with factory() as session:
        directory = Directory(session)
    classifier = Classifier(config, directory)
    statistics = Statistics()
    issues = iter_issues(tickets, shift=shift, order="created")
    done = 0
    for parsed in batches((_parse_jira(raw, DEMO_SOURCE, config) for raw in issues), batch):
        with transaction(factory) as session:
            add_page(result, store_and_attribute(session, parsed, directory, classifier, config,
                                                 statistics=statistics))
        done += len(parsed)
        if reporter:
            reporter.progress(done, tickets)
    return result
