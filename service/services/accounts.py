"""Accounts: creating users with hashed passwords, logging in, and throttling repeated failures."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

from service.db import write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied, Unauthorized
from service.models import College, Major, School, Throttle, User, UserScope, utcnow
from service.services.actors import ADMIN_ROLE

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_lock(key: str) -> None:
    """Refuse while `key` is locked after too many failures."""
    row = Throttle.get_or_none(Throttle.key == key)
    if row is not None and row.locked_until is not None and row.locked_until > utcnow():
        minutes = max(1, int((row.locked_until - utcnow()).total_seconds() // 60) + 1)
        raise PermissionDenied(f"失败次数过多，请 {minutes} 分钟后再试", code="locked",
                               details={"retry_after_seconds": int((row.locked_until - utcnow()).total_seconds())})


def record_failure(key: str, max_failures: int, lock_seconds: int) -> int:
    """Count a failure; the max_failures-th one locks the key for lock_seconds. Returns failures left."""
    with write_transaction():
        # Concurrent first failures must not collide on the primary key (that would be a 500).
        Throttle.insert(key=key, failures=0).on_conflict_ignore().execute()
        row = Throttle.get(Throttle.key == key)
        if row.locked_until is not None and row.locked_until <= utcnow():
            row.failures = 0
            row.locked_until = None
        row.failures += 1
        if row.failures >= max_failures:
            row.locked_until = utcnow() + timedelta(seconds=lock_seconds)
        row.updated_at = utcnow()
        row.save()
        return max(0, max_failures - row.failures)


def clear_failures(key: str) -> None:
    Throttle.delete().where(Throttle.key == key).execute()


def authenticate(username: str, password: str, school_code: str | None, *,
                 max_failures: int = 5, lock_seconds: int = 900) -> User:
    """Check a login; failures are counted per (school, username) and lock the account for a while."""
    key = f"login:{school_code or '-'}:{username}"
    check_lock(key)
    query = User.select().where((User.username == username) & (User.active == True))  # noqa: E712
    query = query.where(User.school == school_code) if school_code else query.where(User.school.is_null())
    user = query.first()
    # Hash even for an unknown user, so response time does not tell which usernames exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not check_password_hash(stored, password) or user is None:
        left = record_failure(key, max_failures, lock_seconds)
        raise Unauthorized("用户名、学校代码或密码不正确", code="bad_credentials",
                           details={"attempts_left": left})
    clear_failures(key)
    return user


def create_user(username: str, password: str, role: str, *, school_code: str | None,
                allowed_roles: list[str], colleges: Sequence[str] = (), majors: Sequence[str] = (),
                display_name: str = "") -> User:
    """Create an account whose role is a BPMN lane role (allowed_roles) or admin, with its grants."""
    if role != ADMIN_ROLE and role not in allowed_roles:
        raise InvalidInput(f"角色 {role} 不在流程的泳道中（可选：{', '.join(allowed_roles + [ADMIN_ROLE])}）",
                           code="unknown_role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD_LENGTH} 位", code="weak_password")
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
