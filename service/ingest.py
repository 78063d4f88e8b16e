"""Offline ingestion: exported Jira JSON files and the bundled demo scenario.

Both run through the same parser, store and classifier as a live sync.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import orjson
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import SkippableError
from connectors.jira_parse import issues_in_document, parse_issue
from connectors.jira_context import JiraContext
from connectors.records import ParsedTicket
from service.classify import Classifier
from service.config import Config
from service.db import transaction
from service.pipeline import PageResult, store_and_attribute
from service.progress import Reporter
from service.directory import Directory, jira_context

DEMO_SOURCE = "demo-jira"


@dataclass(slots=True)
class IngestResult:
    files: int = 0
    tickets: int = 0
    events: int = 0
    attributions: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    refused_tickets: list[tuple[str, str, str]] = field(default_factory=list)  # (file, ticket key, reason)
    incomplete: list[tuple[str, str, str]] = field(default_factory=list)  # (file, ticket key, what is missing)


def parse_file(path: Path, source: str, config: Config, context: JiraContext | None = None) -> list[ParsedTicket]:
    """All tickets of one export file, or SkippableError naming why the whole file is refused."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SkippableError(f"cannot be read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise SkippableError(f"is not valid JSON ({exc})") from None
    parsed = []
    for index, raw in enumerate(issues_in_document(document)):
        try:
            parsed.append(parse_issue(raw, source, kind_of=config.kinds.kind, context=context))
        except SkippableError as exc:
            key = raw.get("key") if isinstance(raw, dict) else None
            raise SkippableError(f"issue {key or f'#{index + 1}'} is malformed: {exc}") from None
    return parsed


def import_files(
    factory: sessionmaker[Session], config: Config, paths: Iterable[Path], source: str,
    reporter: Reporter | None = None,
) -> IngestResult:
    """Import each file in its own transaction; a bad file is refused whole, the others still land."""
    result = IngestResult()
    paths = list(paths)
    with factory() as session:
        directory = Directory(session)
        context = jira_context(session, directory)
    classifier = Classifier(config, directory)
    for done, path in enumerate(paths, 1):
        try:
            parsed = parse_file(path, source, config, context)
        except SkippableError as exc:
            result.refused.append((str(path), str(exc)))
        else:
            with transaction(factory) as session:
                page = _store(session, parsed, directory, classifier, config, result, context)
            result.refused_tickets += [(str(path), key, reason) for key, reason in page.refused]
            result.incomplete += [(str(path), key, missing) for key, missing in page.incomplete]
            result.files += 1
        if reporter:
            reporter.progress(done, len(paths))
    return result


def build_demo(
    factory: sessionmaker[Session], config: Config, tickets: int = 2000, batch: int = 500,
    reporter: Reporter | None = None,
) -> IngestResult:
    """Generate the demo scenario and ingest it as if synced from Jira Cloud."""
    from simulator.scenario import generate

    result = IngestResult()
    with factory() as session:
        directory = Directory(session)
    classifier = Classifier(config, directory)
    issues = generate(tickets)
    for start in range(0, len(issues), batch):
        parsed = [parse_issue(raw, DEMO_SOURCE, kind_of=config.kinds.kind) for raw in issues[start:start + batch]]
        with transaction(factory) as session:
            _store(session, parsed, directory, classifier, config, result)
        if reporter:
            reporter.progress(min(start + batch, len(issues)), len(issues))
    return result


def _store(session: Session, parsed: list[ParsedTicket], directory: Directory, classifier: Classifier,
           config: Config, result: IngestResult, context: JiraContext | None = None) -> PageResult:
    page = store_and_attribute(session, parsed, directory, classifier, config, context)
    result.tickets += page.tickets
    result.events += page.events
    result.attributions += page.attributions
    return page
