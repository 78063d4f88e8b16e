"""The key that signs the dashboard's session cookies and CSRF tokens.

It comes from `PARTNERSCOPE_SECRET_KEY`. When that is unset, a random key is made once and kept in
the database (`settings`), so that every process and worker serving the same database signs alike
and a restart does not log everyone out; the server says so at start, since anyone who can read
the database can then forge a session. Never a refusal to start.
"""
from __future__ import annotations

import os
import secrets

from sqlalchemy.orm import Session

from service.store.models import Setting
from service.store.sql import dialect_insert

ENV = "PARTNERSCOPE_SECRET_KEY"
KEY = "secret_key"


def secret_key(session: Session) -> tuple[str, bool]:
    """(the key, whether it came from the environment)."""
    given = os.environ.get(ENV)
    if given:
        return given, True
    stored = session.get(Setting, KEY)
    if stored is None:  # two processes starting at once: the first insert wins, both read it back
        session.execute(dialect_insert(session, Setting.__table__).values(key=KEY, value=secrets.token_urlsafe(48))
                        .on_conflict_do_nothing())
        stored = session.get(Setting, KEY)
    assert stored is not None
    return stored.value, False
