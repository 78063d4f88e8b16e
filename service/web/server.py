"""`partnerscope serve` under gunicorn: a master process and `[server] workers` worker processes
of 8 threads each (gunicorn's `gthread` class), with no configuration file of gunicorn's own.

Each worker builds its own app (`create_app`), with its own database connections. Stored webhook
deliveries are applied as they are under a single process (`service.jobs.deliveries`), and
claimed in the database, so no two appliers ever apply one:

- On PostgreSQL one applier process serves them all: the master starts it before the workers
  start (`when_ready`), the workers' apps only wake it, and the master stops it when it exits.
- On SQLite each worker runs the applier thread beside its requests (`post_worker_init`): the
  write gate that lets acknowledgements go before the applier's batches works within a process.
- With `[queue] url` none runs here: a stored delivery becomes a job for the workers
  (`service.jobs.queue`).

A worker ends with the master, even a master killed with SIGKILL (`service.lifetime`), so no
worker is left holding the port or a claimed batch while a restarted server waits. Gunicorn's
own messages go through the root logger, so PARTNERSCOPE_LOG_FORMAT applies to them too
(`service.logs`). Request durations are counted in prometheus_client's multiprocess mode; a dead
worker's figures stay in the sums, as a counter's must (`service.web.metrics`).
"""
from __future__ import annotations

import logging
import os
import signal
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from service.config import Config
from service.jobs.applier_process import ApplierProcess
from service.jobs.deliveries import DeliveryApplier
from service.lifetime import end_with_parent

THREADS = 8
GRACE = 15  # seconds a stopping worker has to finish the requests in hand
log = logging.getLogger(__name__)


class RootLogger(Logger):
    """Gunicorn's logger without handlers of its own: its records go to the root logger's."""

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True
            logger.setLevel(logging.NOTSET)  # the "gunicorn" logger's level, set by service.logs


class Server(BaseApplication):  # type: ignore[misc]
    """The app for `config` served on `bind` (host:port) by `workers` gunicorn workers."""

    def __init__(self, config: Config, bind: str, workers: int) -> None:
        self.config, self.bind, self.workers = config, bind, workers
        self.postgresql = config.database_url.startswith("postgresql")
        self.applier: ApplierProcess | None = None  # the master's, on PostgreSQL
        super().__init__(prog="partnerscope serve")

    def load_config(self) -> None:
        settings: dict[str, Any] = {
            "bind": [self.bind], "workers": self.workers, "worker_class": "gthread", "threads": THREADS,
            "graceful_timeout": GRACE, "proc_name": "partnerscope", "logger_class": RootLogger,
            "accesslog": None, "control_socket_disable": True,  # no socket file left in a shared folder
            "when_ready": self.when_ready, "on_exit": self.on_exit, "post_fork": post_fork,
            "post_worker_init": post_worker_init, "worker_exit": worker_exit, "child_exit": child_exit,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:  # control_socket_disable is gunicorn 24's
                self.cfg.set(key, value)

    def load(self) -> Any:
        """In each worker, after the fork: the worker's own app."""
        from service.web import create_app

        return create_app(self.config, applier=self.applier)

    def when_ready(self, _arbiter: Any) -> None:
        if self.postgresql and self.config.queue is None:  # with a queue, the workers apply
            self.applier = ApplierProcess(self.config)
            self.applier.start()  # applies stored deliveries, including any left by an earlier run

    def on_exit(self, _arbiter: Any) -> None:
        if self.applier is not None:
            self.applier.stop()

    def serve(self) -> None:
        """Run the master until it is stopped (SIGTERM or SIGINT: exit status 0). A worker leaves
        through here too, when gunicorn ends it with SystemExit: it exits at once, leaving what it
        inherited from the master (the applier process, connections, files) to the master."""
        master = os.getpid()
        try:
            self.run()
        except SystemExit as leaving:
            if os.getpid() == master:
                raise
            logging.shutdown()  # flush the worker's last lines
            code = leaving.code
            os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


def post_fork(arbiter: Any, _worker: Any) -> None:
    end_with_parent(arbiter.pid, signal.SIGKILL)  # a killed master's workers die as it did


def post_worker_init(worker: Any) -> None:
    applier = worker.wsgi.extensions["partnerscope"]["applier"]
    if isinstance(applier, DeliveryApplier):  # SQLite: the thread; PostgreSQL's process is the master's
        applier.start()


def worker_exit(_arbiter: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if os.getpid() == worker.pid and app is not None:  # gunicorn also calls this in the master
        applier = app.extensions["partnerscope"]["applier"]
        if isinstance(applier, DeliveryApplier):
            applier.stop()  # the batch in hand commits or rolls back
        app.extensions["partnerscope"]["engine"].dispose()  # the database sees its connections closed, not dropped


def child_exit(_arbiter: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
