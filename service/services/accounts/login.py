"""Logging in: the password check, throttled per (account, address) and per address (services.throttle)."""

from __future__ import annotations

from werkzeug.security import check_password_hash

from service.config import Settings
from service.errors import Unauthorized
from service.models import User
from service.services import throttle
from service.services.accounts.passwords import _dummy_hash
from service.services.throttle import Limit
from service.validation.text import normalise_code


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
