"""Run a source's incremental sync: fetch page by page, store, attribute, advance the bookmark.

A page, its attributions and the bookmark it covers commit in one transaction, so a run
that fails keeps every page committed before the failure and the next run resumes there.

Every sync holds its source's lock (`service.store.locks`): one that finds the source busy
raises `SourceBusy` with a sentence saying so, and starts nothing. A sync asked to stop (the
`stop` event, set on SIGTERM) ends after the page in hand has committed; a wait for a rate limit
is cut short, and the page it belonged to is fetched again by the next run.

A Jira Cloud page also carries a resume point (`connectors.jira_waiting.Resume`) while issues
wait for their changelog and hold the bookmark back; it commits with the page, and the next
run is handed it, so that it starts from what was committed rather than from the bookmark.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from service.jobs.classify import Classifier
from service.config import Config, SourceConfig
from service.store.db import transaction
from service.store.locks import SourceBusy, source_lock
from service.store.models import GitHubMember, SyncState
from service.store.recent import recent_issue_ids
from service.jobs.pipeline import store_and_attribute
from service.store.runs import Counts, busy_sentence, close_abandoned, recorded
from service.store.statistics import Statistics
from service.progress import Reporter
from connectors.jira_context import JiraContext
from connectors.jira_waiting import Resume
from service.store.directory import Directory, jira_context


@dataclass(slots=True)
class SyncResult:
    source: str
    tickets: int = 0
    events: int = 0
    attributions: int = 0
    pages: int = 0
    requests: int = 0
    bookmark: datetime | None = None
    refused: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, why)
    incomplete: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, what is still missing)
    cut: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, what was cut to its column)
    stopped: bool = False  # asked to stop, it ended after its last committed page


def read_bookmark(session: Session, source: str) -> datetime | None:
    return session.scalar(select(SyncState.bookmark).where(SyncState.source == source))


def advance_bookmark(session: Session, source: str, bookmark: datetime) -> None:
    """Move the source's bookmark forward (never back), in the caller's transaction."""
    state = session.get(SyncState, source)
    now = datetime.now(timezone.utc)
    if state is None:
        session.add(SyncState(source=source, bookmark=bookmark, updated_at=now))
    elif state.bookmark is None or bookmark > state.bookmark:
        state.bookmark = bookmark
        state.updated_at = now


OVERLAP = timedelta(minutes=5)  # as the connectors' own: how far below its bookmark a sync reads again
RECONCILE_WINDOW = timedelta(days=2)  # what a sweep reads again: bulk edits Jira Cloud indexes late


class Stopped(Exception):
    """The sync was asked to stop while it waited."""


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A connector's `sleep` that ends early, raising `Stopped`, when `stop` is set."""
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped
    return sleep


def sweep_due(session: Session, source: SourceConfig, now: datetime) -> bool:
    """Whether a scheduled sync of `source` should read the last two days again: its
    `reconcile_every` has passed since the last sweep (or none has run)."""
    if source.sweep_every is None:
        return False
    last = session.scalar(select(SyncState.reconciled_at).where(SyncState.source == source.name))
    return last is None or now - last >= source.sweep_every


def mark_reconciled(session: Session, source: str, at: datetime) -> None:
    state = session.get(SyncState, source)
    if state is None:
        session.add(SyncState(source=source, bookmark=None, updated_at=at, reconciled_at=at))
    else:
        state.reconciled_at = at


def read_resume(session: Session, source: str) -> Resume | None:
    """Where the source's last run left off beyond its bookmark; None when nothing was waiting."""
    state = session.get(SyncState, source)
    if state is None or state.waiting is None:
        return None
    return Resume(state.resume_after, tuple(str(issue_id) for issue_id in state.waiting))


def record_resume(session: Session, source: str, resume: Resume | None) -> None:
    """Keep the resume point a page carries, in the page's transaction (None clears it)."""
    state = session.get(SyncState, source)
    if state is None:
        if resume is None:
            return
        state = SyncState(source=source, bookmark=None, updated_at=datetime.now(timezone.utc))
        session.add(state)
    state.resume_after = resume.after if resume is not None else None
    state.waiting = list(resume.waiting) if resume is not None else None


def make_connector(source: SourceConfig, config: Config, reporter: Reporter | None = None,
                   context: JiraContext | None = None, counts: Counts | None = None,
                   stop: threading.Event | None = None) -> Any:
    """The connector for a configured source; reads its token from the environment now. Its waits
    are counted in `counts` and announced to `reporter`, and `stop` cuts them short."""
    def on_wait(seconds: float, reason: str) -> None:
        if counts is not None:
            counts.waits += 1
        if reporter is not None:
            reporter.waiting(seconds, reason)

    extra: dict[str, Any] = {"sleep": stoppable_sleep(stop)} if stop is not None else {}
    if source.kind == "github":
        from connectors.github import GitHubConnector

        return GitHubConnector(
            source.name, repos=list(source.repos) or None, org=source.org, token=source.token(),
            token_env=source.token_env or "", base_url=source.base_url, start=source.start,
            kind_of=config.kinds.kind, on_wait=on_wait,
            on_progress=reporter.progress if reporter else None, **extra,
        )
    from connectors.jira import JiraConnector

    return JiraConnector(
        source.name,
        source.url,
        source.deployment,
        source.jql,
        email=source.email,
        token=source.token(),
        token_env=source.token_env or "",
        start=source.start,
        kind_of=config.kinds.kind,
        on_wait=on_wait,
        on_progress=reporter.progress if reporter else None,
        context=context,
        **extra,
    )


def refresh_github_members(session: Session, config: Config, connector: Any) -> int:
    """Read the members of the GitHub organisations named by `github_orgs`, for affiliation."""
    orgs = {gh for names in config.github_orgs.values() for gh in names}
    now = datetime.now(timezone.utc)
    count = 0
    for org in sorted(orgs):
        logins = connector.org_members(org)
        session.execute(delete(GitHubMember).where(GitHubMember.org == org))
        session.add_all(GitHubMember(org=org, login=login, seen_at=now) for login in dict.fromkeys(logins))
        count += len(logins)
    return count


def sync_source(
    factory: sessionmaker[Session], config: Config, source: SourceConfig,
    reporter: Reporter | None = None, connector: Any = None, trigger: str = "manual",
    tick: datetime | None = None, stop: threading.Event | None = None, reread: timedelta | None = None,
) -> SyncResult:
    """Sync one source from its bookmark to now, holding its lock, recorded as a run
    (`service.store.runs`; `tick`: the schedule's fire time this run serves). With `reread` it
    starts that long ago at the latest (a reconciliation sweep: `sync --reconcile`), leaving the
    stored bookmark where it is. Raises `SourceBusy` when another sync of the source is running,
    `TickTaken` when another process ran `tick`."""
    with source_lock(factory.kw["bind"], source.name) as taken:
        if not taken:
            raise SourceBusy(busy_sentence(factory, source.name))
        close_abandoned(factory, source.name)
        with recorded(factory, source.name, trigger, tick) as counts:
            return _sync(factory, config, source, reporter, connector, counts, stop, reread)


def _sync(factory: sessionmaker[Session], config: Config, source: SourceConfig, reporter: Reporter | None,
          connector: Any, counts: Counts, stop: threading.Event | None, reread: timedelta | None = None) -> SyncResult:
    result = SyncResult(source.name)
    # A change Jira Cloud's search has not indexed yet may be older than what this run stores: the
    # bookmark stays `index_lag` behind the run's start, so the next runs read that window again.
    started = datetime.now(timezone.utc)
    ceiling = started - source.lag if source.lag else None
    with factory() as session:
        bookmark = read_bookmark(session, source.name)
        resume = read_resume(session, source.name)
        if reread is not None and bookmark is not None:  # a sweep reads the window again, what waited too
            bookmark, resume = min(bookmark, started - reread), None
        cloud = source.kind == "jira" and source.deployment == "cloud"
        window = max(bookmark, ceiling - OVERLAP) if bookmark is not None and ceiling is not None else bookmark
        reconcile = recent_issue_ids(session, source.name, window) if cloud else []
        directory = Directory(session)
        context = jira_context(session, directory, cloud) if source.kind == "jira" else None
    connector = connector or make_connector(source, config, reporter, context, counts, stop)
    context = getattr(connector, "context", None) if source.kind == "jira" else None
    try:
        if source.kind == "github" and config.github_orgs:
            with transaction(factory) as session:
                refresh_github_members(session, config, connector)
        classifier = Classifier(config, directory)
        statistics = Statistics()
        # Only a Jira Cloud run that stopped while issues waited leaves a resume point.
        if reconcile:  # Jira Cloud: issues changed lately are read consistently first
            pages = connector.pages(bookmark, resume, reconcile=reconcile)
        else:
            pages = connector.pages(bookmark, resume) if resume is not None else connector.pages(bookmark)
        for page in pages:
            kept = min(page.bookmark, ceiling) if ceiling is not None and page.bookmark is not None else page.bookmark
            with transaction(factory) as session:
                stored = store_and_attribute(session, page.tickets, directory, classifier, config, context, statistics)
                if kept is not None:  # None: this page must not move the bookmark
                    advance_bookmark(session, source.name, kept)
                if hasattr(page, "resume"):
                    record_resume(session, source.name, page.resume)
            result.pages += 1
            result.tickets += stored.tickets
            result.events += stored.events
            result.attributions += stored.attributions
            result.refused += stored.refused
            result.incomplete += stored.incomplete
            result.cut += stored.cut
            result.bookmark = kept or result.bookmark
            counts.tickets, counts.events = result.tickets, result.events
            if stop is not None and stop.is_set():
                counts.stopped = True
                break
    except Stopped:
        counts.stopped = True
    else:
        if reread is not None and not counts.stopped:
            with transaction(factory) as session:
                mark_reconciled(session, source.name, started)
    finally:
        result.requests = counts.requests = connector.requests
        result.stopped = counts.stopped
    return result
