"""Accounts: creating users with hashed passwords, logging in, and throttling repeated failures.

Who may create whom (DESIGN §1), read from the BPMN rather than named here: the review levels of
the process definition are ordered (first = 二级, last = the school-wide 中心). An account may
create accounts only for levels *earlier* than its own, inside its own school and its own
college/major scope, never the school-wide role and never admin. The admin (a web session) may
create any review level of any school, but never another admin: admin accounts come only from the
command line (`gradflow user add --role admin`, creator=None). Students create their own accounts
by binding. The rule lives here so the page, any API and the CLI all pass through it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from service.config import Settings
from service.db import write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied, Unauthorized
from service.models import College, Major, School, User, UserScope, UserSession, utcnow
from service.services import processes, throttle
from service.services.actors import ADMIN_ROLE, Actor
from service.services.throttle import Limit
from service.validation.text import normalise_code
from service.workflow.definitions import ProcessDefinition

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "config" / "common_passwords.txt"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """12345678, 87654321, abcdefgh: every step +1 (or every step -1)."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(text) > 1 and (steps == {1} or steps == {-1}) and (text.isdigit() or text.isalpha())


def check_password_strength(password: str, username: str = "") -> None:
    """Refuse passwords a guesser tries first: short, blank, one repeated character, a run, common, the username."""
    def weak(message: str) -> InvalidInput:
        return InvalidInput(message, code="weak_password", details={"password": [message]})

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise weak(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if not password.strip():
        raise weak("密码不能全为空格")
    folded = password.casefold()
    if len(set(folded)) == 1:
        raise weak("密码不能由同一个字符重复组成")
    if _is_sequence(folded):
        raise weak("密码不能是连续的数字或字母")
    if folded in _common_passwords() or folded.strip() in _common_passwords():
        raise weak("密码过于常见，请换一个不易被猜到的密码")
    if username and normalise_code(password).casefold() == normalise_code(username).casefold():
        raise weak("密码不能与用户名相同")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def login_limits(school_code: str | None, username: str, client: str | None, *, max_failures: int,
                 lock_seconds: int, address_max_failures: int) -> list[Limit]:
    """The address counter first (spraying), then the (account, address) pair (see services.throttle)."""
    addr = throttle.client_key(client)
    return [
        Limit(throttle.make_key("login-addr", addr), address_max_failures, lock_seconds,
              "该网络地址登录失败次数过多，请 {minutes} 分钟后再试"),
        Limit(throttle.make_key("login", school_code or "-", username, addr), max_failures, lock_seconds,
              clear_on_success=True),
    ]


def authenticate(username: str, password: str, school_code: str | None, *, client: str | None,
                 settings: Settings) -> User:
    """Check a login. Guesses are throttled per (account, address) and per address, never locking the
    account itself (services.throttle); `client` is the caller's address (None: not over the network).
    """
    username = normalise_code(username)
    school_code = normalise_code(school_code) or None
    account_key = throttle.make_key("login-acct", school_code or "-", username)
    lock_seconds = settings.login_lock_seconds
    throttle.slow_down(account_key, settings.login_account_slow_after, settings.login_slow_seconds, lock_seconds)
    ticket = throttle.reserve(login_limits(school_code, username, client, max_failures=settings.login_max_failures,
                                           lock_seconds=lock_seconds,
                                           address_max_failures=settings.login_address_max_failures))
    query = User.select().where((User.username == username) & (User.active == True))  # noqa: E712
    query = query.where(User.school == school_code) if school_code else query.where(User.school.is_null())
    user = query.first()
    # Hash even for an unknown user, so response time does not tell which usernames exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not check_password_hash(stored, password) or user is None:
        throttle.count_only(account_key, lock_seconds)
        raise Unauthorized("用户名、学校代码或密码不正确", code="bad_credentials",
                           details={"attempts_left": ticket.attempts_left()})
    throttle.succeeded(ticket)
    return user


def creatable_roles(creator: Actor | None, definition: ProcessDefinition) -> list[str]:
    """The roles `creator` may hand out (see the module docstring); creator=None is the CLI operator."""
    levels = list(dict.fromkeys(definition.reviewer_roles))
    if creator is None:
        return [*dict.fromkeys(definition.roles), ADMIN_ROLE]
    if creator.is_admin:
        return levels
    if creator.role not in levels:
        return []
    below = levels[:levels.index(creator.role)]
    return [r for r in below if r != definition.school_wide_role]


def _check_creator(creator: Actor | None, role: str, school_code: str | None, colleges: Sequence[str],
                   majors: Sequence[str], definition: ProcessDefinition) -> None:
    """Refuse (403) a role above the creator's reach, another school, or grants beyond its own scope."""
    if creator is None:
        return
    if role == ADMIN_ROLE:
        raise PermissionDenied("管理员账号只能由运维人员在命令行创建", code="role_not_allowed")
    allowed = creatable_roles(creator, definition)
    if role not in allowed:
        names = "、".join(definition.role_label(r) for r in allowed) or "无"
        raise PermissionDenied(f"您无权创建“{definition.role_label(role)}”账号（可创建：{names}）",
                               code="role_not_allowed")
    if creator.is_admin:
        return
    if school_code != creator.school_code:
        raise PermissionDenied("只能为本校创建账号", code="school_not_allowed")
    if creator.restricted:
        if not colleges and not majors:
            raise PermissionDenied("您只能创建管辖范围在您自己范围之内的账号，请选择院系或专业", code="scope_not_allowed")
        in_colleges = {c.name for c in College.select().where(College.id.in_(sorted(creator.college_ids)))}
        for name in colleges:
            if name not in in_colleges:
                raise PermissionDenied(f"院系 {name} 不在您的管辖范围内", code="scope_not_allowed")
        for code in majors:
            found = Major.select().where((Major.school == school_code) & ((Major.code == code) | (Major.name == code)))
            if not all(m.id in creator.major_ids or m.college_id in creator.college_ids for m in found):
                raise PermissionDenied(f"专业 {code} 不在您的管辖范围内", code="scope_not_allowed")


def create_user(username: str, password: str, role: str, *, school_code: str | None, creator: Actor | None,
                allowed_roles: Sequence[str] | None = None, colleges: Sequence[str] = (),
                majors: Sequence[str] = (), display_name: str = "",
                definition: ProcessDefinition | None = None) -> User:
    """Create an account whose role is a BPMN lane role or admin, with its grants.

    `creator` is who asks (None only for the operator at the command line); the rule of
    creatable_roles applies to everyone else. `allowed_roles` may narrow the choice further.
    """
    if definition is None:
        definition = processes.active_definition()[1]
    lanes = list(dict.fromkeys(definition.roles))
    username = normalise_code(username)
    if not username:
        raise InvalidInput("请填写用户名", details={"username": ["必填"]})
    if role != ADMIN_ROLE and role not in lanes:
        raise InvalidInput(f"角色 {role} 不在流程的泳道中（可选：{', '.join(lanes + [ADMIN_ROLE])}）",
                           code="unknown_role")
    _check_creator(creator, role, school_code, colleges, majors, definition)
    if allowed_roles is not None and role not in allowed_roles:
        raise PermissionDenied(f"此处不能创建“{definition.role_label(role)}”账号", code="role_not_allowed")
    check_password_strength(password, username)
    school = None
    if school_code:
        school = School.get_or_none(School.code == school_code)
        if school is None:
            raise NotFound(f"学校 {school_code} 不存在", code="school_not_found")
    elif role != ADMIN_ROLE:
        raise InvalidInput("非管理员账号必须属于一所学校", code="school_required")
    with write_transaction():
        if User.select().where((User.username == username) & (User.school == school)).exists():
            raise InvalidInput(f"用户 {username} 已存在", code="user_exists")
        user = User.create(username=username, password_hash=hash_password(password), role=role, school=school,
                           display_name=display_name or username)
        for name in colleges:
            college = College.get_or_none((College.school == school) & (College.name == name))
            if college is None:
                raise NotFound(f"院系 {name} 不存在", code="college_not_found")
            UserScope.create(user=user, college=college)
        for code in majors:
            found = list(Major.select().where((Major.school == school) & ((Major.code == code) | (Major.name == code))))
            if not found:
                raise NotFound(f"专业 {code} 不存在", code="major_not_found")
            for major in found:
                UserScope.create(user=user, major=major)
    return user


# --- sessions ----------------------------------------------------------------------------------
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
    """Change an account's password; every session of it ends (a stolen cookie with it)."""
    check_password_strength(password, user.username)
    with write_transaction():
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
        revoke_sessions(user)


def set_active(user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    with write_transaction():
        User.update(active=active).where(User.id == user.id).execute()
        if not active:
            revoke_sessions(user)
