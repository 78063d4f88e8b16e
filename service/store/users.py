"""Dashboard users and their API tokens: names, roles, and only hashes of what proves who they are.

Passwords are hashed with Werkzeug's scrypt (salted, deliberately slow); an API token is a long
random string, so its SHA-256 suffices to find it and nothing that is stored can be replayed.
A token is shown once, when it is made. Names and passwords a user types are checked here, so the
command line and any later page refuse the same things with the same sentences.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from service.store.models import ApiToken, User

ROLES = ("viewer", "admin")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
PASSWORD_MIN, PASSWORD_MAX = 10, 1024
TOKEN_PREFIX = "pst_"  # makes a leaked token recognisable in a log or a secret scanner


class UserError(ValueError):
    """A user name, role, password or token the store refuses, in one sentence."""


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    role: str
    created_at: datetime
    tokens: int  # tokens not revoked


def add_user(session: Session, name: str, role: str, password: str) -> User:
    check_name(name)
    if role not in ROLES:
        raise UserError(f"the role must be {' or '.join(ROLES)}.")
    check_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"a user named {name} exists already.")
    user = User(name=name, role=role, password_hash=generate_password_hash(password),
                created_at=datetime.now(timezone.utc))
    session.add(user)
    session.flush()
    return user


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise UserError("a user name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit.")


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise UserError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise UserError("a password holds no control characters.")


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user whose name and password these are, or None. A wrong name costs as much time as a
    wrong password, so the answer's speed does not tell which names exist."""
    user = session.scalar(select(User).where(User.name == name)) if NAME.fullmatch(name) else None
    if user is None:
        check_password_hash(_dummy(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def users(session: Session) -> list[UserRow]:
    live = dict(_live_tokens(session))
    return [UserRow(u.name, u.role, u.created_at, live.get(u.id, 0))
            for u in session.scalars(select(User).order_by(User.name))]


def create_token(session: Session, name: str) -> str:
    """A new API token for `name`; the only time it is seen in clear."""
    user = _user(session, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=datetime.now(timezone.utc)))
    session.flush()
    return token


def revoke_tokens(session: Session, name: str) -> int:
    """Revoke every live token of `name`; returns how many."""
    user = _user(session, name)
    return session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=datetime.now(timezone.utc))).rowcount


def user_for_token(session: Session, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)))


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user is named {name}; `partnerscope users list` shows them.")
    return user


def _live_tokens(session: Session) -> list[tuple[int, int]]:
    return [(uid, n) for uid, n in session.execute(
        select(ApiToken.user_id, func.count()).where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id))]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _dummy() -> str:
    """A hash to check a password against when no such user exists (made once, when first needed)."""
    return generate_password_hash(secrets.token_urlsafe(16))
