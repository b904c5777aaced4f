"""Server-side sessions, and the two account changes that must end them (password, disabling)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.security import check_password_hash

from service.db import database, write_transaction
from service.errors import InvalidInput
from service.models import Record, User, UserScope, UserSession, utcnow
from service.services.accounts.passwords import check_password_strength, hash_password
from service.services.actors import Actor

# A session is a row, not just a signed cookie: a copied cookie dies with logout, a password change
# or disabling the account. The cookie holds a random token; the row's id is its sha256.

SESSION_TOUCH_SECONDS = 300  # last_seen_at is refreshed at most this often (a write per request costs)


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User, lifetime_seconds: int) -> str:
    """A new session for `user`; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    UserSession.create(id=_session_id(token), user=user, created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(seconds=lifetime_seconds))
    return token


def user_for_session(token: str) -> User | None:
    """The active account of a live session, loaded in the same query that checks the session."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    user = (User.select(User, UserSession.last_seen_at.alias("session_seen_at"))
            .join(UserSession, on=(UserSession.user == User.id))
            .where((UserSession.id == _session_id(token)) & UserSession.revoked_at.is_null()
                   & (UserSession.expires_at > now) & (User.active == True))  # noqa: E712
            .objects().first())
    if user is not None and user.session_seen_at < now - timedelta(seconds=SESSION_TOUCH_SECONDS):
        UserSession.update(last_seen_at=now).where(UserSession.id == _session_id(token)).execute()
    return user


@dataclass(frozen=True)
class SessionCaller:
    """Who a live session belongs to, as one request needs it."""

    actor: Actor
    must_change_password: bool


def _caller_sql() -> str:
    """One statement: the live session, its active account, the account's grants (one row each, or
    one row of NULLs) and the record it owns. Written once per placeholder style, not built by
    the query builder per request: the request path runs it on every call."""
    p = database.param
    user, sess, scope, record = (f'"{m._meta.table_name}"' for m in (User, UserSession, UserScope, Record))
    return (f"SELECT u.id, u.username, u.role, u.school_id, u.must_change_password, s.last_seen_at, "
            f"g.college_id, g.major_id, (SELECT r.id FROM {record} r WHERE r.user_id = u.id LIMIT 1) "
            f"FROM {sess} s JOIN {user} u ON u.id = s.user_id LEFT JOIN {scope} g ON g.user_id = u.id "
            f"WHERE s.id = {p} AND s.revoked_at IS NULL AND s.expires_at > {p} AND u.active = {p}")


def caller_for_session(token: str) -> SessionCaller | None:
    """The actor of a live session in one round trip (None: no such live session or account).

    Same checks as user_for_session (revoked, expired, disabled), plus the grants and the owned
    record that make the Actor, so a request costs one statement to know its caller."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    sid = _session_id(token)
    rows = database.execute_sql(_caller_sql(), (sid, UserSession.expires_at.db_value(now), True)).fetchall()
    if not rows:
        return None
    user_id, username, role, school, must_change, seen, _, _, record_id = rows[0]
    colleges = frozenset(int(r[6]) for r in rows if r[6] is not None)
    majors = frozenset(int(r[7]) for r in rows if r[7] is not None)
    if UserSession.last_seen_at.python_value(seen) < now - timedelta(seconds=SESSION_TOUCH_SECONDS):
        UserSession.update(last_seen_at=now).where(UserSession.id == sid).execute()
    actor = Actor(username=username, role=role, school_code=school, user_id=int(user_id), college_ids=colleges,
                  major_ids=majors, record_id=int(record_id) if record_id is not None else None)
    return SessionCaller(actor, bool(must_change))


def end_session(token: str) -> None:
    """Logout: this session is revoked at once, whoever holds a copy of the cookie."""
    if token:
        (UserSession.update(revoked_at=utcnow())
         .where((UserSession.id == _session_id(token)) & UserSession.revoked_at.is_null()).execute())


def revoke_sessions(user: User | int) -> int:
    """End every live session of an account (password change, disabling, an admin's reset); returns how many."""
    user_id = user if isinstance(user, int) else user.id
    return (UserSession.update(revoked_at=utcnow())
            .where((UserSession.user == user_id) & UserSession.revoked_at.is_null()).execute())


def set_password(user: User, password: str) -> None:
    """Change an account's password (a one-time code's must-change flag goes with it); every session
    of it ends (a stolen cookie with it)."""
    check_password_strength(password, user.username)
    with write_transaction():
        User.update(password_hash=hash_password(password), must_change_password=False).where(
            User.id == user.id).execute()
        revoke_sessions(user)


def change_own_password(user: User, current: str, new: str) -> None:
    """The account holder changes its password, proving the current one (or the one-time code).

    Needs a live session, so the login throttle's guesses are not reachable through it unthrottled by a
    stranger; a wrong current password is a 422 that says so."""
    if not check_password_hash(user.password_hash, current or ""):
        raise InvalidInput("当前密码不正确", code="wrong_password", details={"current_password": ["当前密码不正确"]})
    if check_password_hash(user.password_hash, new or ""):
        raise InvalidInput("新密码不能与当前密码相同", code="weak_password", details={"password": ["新密码不能与当前密码相同"]})
    set_password(user, new)


def set_active(user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    with write_transaction():
        User.update(active=active).where(User.id == user.id).execute()
        if not active:
            revoke_sessions(user)
