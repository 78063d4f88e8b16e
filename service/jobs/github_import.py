"""`partnerscope import github`: exported GitHub REST JSON, stored as a sync would store it.

A ticket's items may sit in several files (issues in one, events in another, reviews in a
third), so every file is read first (`connectors.github_export`, slim fields only), then the
tickets are parsed and stored 500 at a time, each batch in one transaction. The contract
is the Jira import's: a file that cannot be read or holds no GitHub items is refused whole
and nothing of it joins the tickets; a malformed ticket is refused alone, by key; a database
error refuses the batch it hit, naming its tickets and the files they came from, and the
next batch is stored.
"""
from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import SkippableError
from connectors.exports import read_export
from connectors.github_export import GitHubExport, TicketInput
from connectors.github_parse import parse_issue
from connectors.records import ParsedTicket
from service.jobs.classify import Classifier
from service.config import Config
from service.store.db import transaction
from service.jobs.ingest import BATCH, FileNotices, IngestResult, Notice, add_page, database_error
from service.jobs.pipeline import store_and_attribute
from service.store.statistics import Statistics
from service.progress import Reporter
from service.store.directory import Directory


def _parse_github(ticket: TicketInput, source: str, config: Config) -> ParsedTicket:
    """The one call of the GitHub parser for imports; the pull request's own object goes as `pull`."""
    raw = ticket.issue if ticket.issue is not None else ticket.pull
    return parse_issue(raw, source, repo=ticket.repo, comments=ticket.comments, events=ticket.events,
                       reviews=ticket.reviews, pull=ticket.pull, kind_of=config.kinds.kind)


def _parsed(export: GitHubExport, source: str, config: Config, result: IngestResult) -> Iterator[tuple[ParsedTicket, int]]:
    """Each ticket parsed, with the files it came from; a ticket that cannot be is reported."""
    for ticket in export.take():
        files = ", ".join(export.file_names(ticket.files))
        if ticket.issue is None and ticket.pull is None:
            held = [f"{len(items)} {name}" for name, items in
                    (("events", ticket.events), ("comments", ticket.comments), ("reviews", ticket.reviews)) if items]
            result.warnings.append(Notice(files, ticket.key, f"refused: the export holds {', '.join(held)} of it "
                                          "but neither the issue nor the pull request itself", True))
            continue
        try:
            parsed = _parse_github(ticket, source, config)
        except SkippableError as exc:
            result.warnings.append(Notice(files, ticket.key, f"refused: {exc}", True))
            continue
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError, OverflowError) as exc:
            # A shape no parser rule foresaw: this ticket is refused by name, the import goes on.
            result.warnings.append(Notice(files, ticket.key, f"refused: has a shape that cannot be read "
                                                             f"({type(exc).__name__}: {exc})", True))
            continue
        yield parsed, ticket.files


def import_github_files(
    factory: sessionmaker[Session], config: Config, paths: Iterable[Path], source: str,
    reporter: Reporter | None = None, batch: int = BATCH,
) -> IngestResult:
    """Import GitHub REST exports; see the module docstring."""
    result = IngestResult()
    paths = list(paths)
    export = GitHubExport()
    for done, path in enumerate(paths, 1):
        notices = FileNotices(str(path))
        try:
            export.add_file(str(path), read_export(path, ("items",)), notices.add)
        except SkippableError as exc:
            result.refused.append((str(path), str(exc)))
        else:
            result.warnings += notices.done()
        if reporter:
            reporter.progress(done, len(paths))

    with factory() as session:
        directory = Directory(session)
    classifier = Classifier(config, directory)
    statistics = Statistics()
    total, stored, failed = len(export.tickets), 0, 0
    pending: list[tuple[ParsedTicket, int]] = []
    for item in chain(_parsed(export, source, config, result), [None]):
        if item is not None:
            pending.append(item)
            if len(pending) < batch:
                continue
        if not pending:
            break
        files = 0
        for _, its in pending:
            files |= its
        try:
            with transaction(factory) as session:
                page = store_and_attribute(session, [p for p, _ in pending], directory, classifier, config,
                                           statistics=statistics)
            add_page(result, page)
            names = {p.ticket.key: ", ".join(export.file_names(its)) for p, its in pending}
            for key, reason in page.refused:  # another issue's identity under this source
                result.warnings.append(Notice(names.get(key, ""), key, f"refused: {reason}", True))
            for key, what in page.cut:
                result.warnings.append(Notice(names.get(key, ""), key, f"{what} was cut to fit its column"))
        except SQLAlchemyError as exc:
            failed |= files
            keys = [p.ticket.key for p, _ in pending]
            named = keys[0] if len(keys) == 1 else f"{keys[0]} … {keys[-1]}"
            for name in export.file_names(files):
                result.warnings.append(Notice(name, None, f"refused: {database_error(exc)}; {len(keys)} tickets "
                                              f"({named}) were not stored", True))
            with factory() as session:
                directory.reload(session)
        stored += len(pending)
        pending = []
        if reporter:
            reporter.progress(stored, total)
    result.files = sum(1 for index in range(len(export.names)) if not failed >> index & 1)
    return result
