"""`/metrics` for Prometheus, without a login like `/healthz`: how long requests take, and what
the database knows of syncs and webhook deliveries.

The sync figures are counted from the `sync_runs` table when Prometheus asks, not kept in this
process: the worker that runs the syncs is another process, and any web process answering the
scrape reads the same rows, so nothing is counted twice or lost with a restart. Deliveries by
state are read the same way. When the database does not answer, `/metrics` still answers, with
`partnerscope_database_up 0` and this process's own figures.

Request durations are this process's own. Under `partnerscope serve` several gunicorn workers
answer requests, so there prometheus_client's multiprocess mode keeps each worker's histogram in
a file of the directory PROMETHEUS_MULTIPROC_DIR names (set by `serve` before the workers start,
`service.web.server`), and a scrape sums them. Elsewhere (`partnerscope run`, tests) each app
has a registry of its own, so the many apps one test session builds never meet in one.

Labels carry nothing a tracker wrote: the configured source name, an outcome or state from a
fixed list, and for requests the route's endpoint name (`tickets.ticket`, never the path with
its ticket key; `unmatched` for a path no route knows), the method and the status code.
"""
from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from typing import Any, Iterator, Mapping

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.store.deliveries import counts
from service.store.runs import totals

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
metrics = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)


class Metrics:
    """One app's registry, which `/metrics` renders, and the histogram its requests feed."""

    def __init__(self, sessions: sessionmaker[Session], environ: Mapping[str, str] = os.environ) -> None:
        self.registry = CollectorRegistry()
        shared = bool(environ.get(MULTIPROCESS_ENV))
        if shared:
            MultiProcessCollector(self.registry)  # every worker's file, this one's included
        self.latency = Histogram("partnerscope_http_request_duration_seconds",
                                 "Time to answer an HTTP request, by route endpoint, method and status code.",
                                 ["endpoint", "method", "status"], registry=None if shared else self.registry)
        self.registry.register(StoreCollector(sessions))


class StoreCollector:
    """Figures read from the database at each scrape, with one grouped query per table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database; the names are fixed here anyway

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("partnerscope_database_up", "1 when the database answered this scrape, else 0.")
        try:
            with self.sessions() as session:
                runs = totals(session)
                deliveries = counts(session)
        except SQLAlchemyError as exc:  # the reason goes to the log; the scrape still answers
            log.warning("web.metrics.database_unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _run_metrics(runs)
        states = GaugeMetricFamily("partnerscope_webhook_deliveries", "Stored webhook deliveries by state.",
                                   labels=["state"])
        for state, number in deliveries.items():
            states.add_metric([state], number)
        yield states


def _run_metrics(runs: list[tuple[str, str, int, int, int]]) -> Iterator[Metric]:
    syncs = CounterMetricFamily("partnerscope_syncs", "Finished sync runs by source and outcome.",
                                labels=["source", "outcome"])
    running = GaugeMetricFamily("partnerscope_syncs_running", "Sync runs started and not finished, by source.",
                                labels=["source"])
    requests = CounterMetricFamily("partnerscope_tracker_requests", "Requests sync runs sent to the trackers.",
                                   labels=["source"])
    waits = CounterMetricFamily("partnerscope_rate_limit_waits", "Rate-limit and retry waits of sync runs.",
                                labels=["source"])
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for source, outcome, number, sent, waited in runs:
        by_source[source][1] += sent
        by_source[source][2] += waited
        if outcome == "running":  # a counter by outcome only ever grows: a run counts once it has one
            by_source[source][0] += number
        else:
            syncs.add_metric([source, outcome], number)
    for source, (busy, sent, waited) in sorted(by_source.items()):
        running.add_metric([source], busy)
        requests.add_metric([source], sent)
        waits.add_metric([source], waited)
    return iter((syncs, running, requests, waits))


def instrument(app: Flask, sessions: sessionmaker[Session]) -> Metrics:
    """Give `app` its metrics and time its requests; call before any other `before_request`, so
    a request another hook answers early (a login redirect) is timed too."""
    found = Metrics(sessions)
    app.before_request(_started)
    app.after_request(_observe)
    app.register_blueprint(metrics)
    return found


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule
        endpoint = rule.endpoint if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        current_app.extensions["partnerscope"]["metrics"].latency.labels(
            endpoint, method, str(response.status_code)).observe(time.perf_counter() - started)
    return response


@metrics.get("/metrics")
def scrape() -> Any:
    registry = current_app.extensions["partnerscope"]["metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
