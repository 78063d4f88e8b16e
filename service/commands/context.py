"""What every command needs: the configuration and, on demand, a migrated database."""
from __future__ import annotations

import logging
from typing import Any

import click

from service.config import Config, load_config
from service.logs import is_json
from service.store.db import ensure_schema, make_engine, session_factory
from service.terminal import printable


class Context:
    """What every command needs: the configuration and, on demand, a migrated database."""

    def __init__(self, config_path: str | None, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._config: Config | None = None
        self._sessions: Any = None
        self.engine: Any = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def sessions(self) -> Any:
        if self._sessions is None:
            self.engine = make_engine(self.config.database_url)
            ensure_schema(self.engine)
            self._sessions = session_factory(self.engine)
        return self._sessions

    def close(self) -> None:
        """Release the database connections when the command ends."""
        if self.engine is not None:
            self.engine.dispose()


pass_ctx = click.make_pass_decorator(Context)


def notice(event: str, text: str) -> None:
    """A note for whoever runs the command, on stderr: the line as it reads, or with
    PARTNERSCOPE_LOG_FORMAT=json a warning named `event`, so that every line there is JSON."""
    if is_json():
        logging.getLogger("partnerscope").warning("%s: %s", event, text)
    else:
        click.echo(printable(text), err=True)
