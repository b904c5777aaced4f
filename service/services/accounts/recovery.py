"""忘记密码: a student proves again who they are, exactly as when binding, and sets a new password.

Mainland students bring the token of a passed 实名认证 (the same identity check as binding), 港澳台
students the roster match only; the match is binding's (学号 → 姓名 → 证件 → 类别, services.binding).
Guesses are throttled like binding's — per (学号, address) and per address, with the same limits —
under their own key prefix, so a failed recovery does not eat the binding attempts or the reverse.
Only a 学号 that already has an account can recover; an unbound one is told to bind.

On success, in one transaction under the chain's lock: the new password, must-change cleared,
every session of the account ended, its login locks cleared (it may log in at once), and one
`password_recovered` event on the student's record chain (services.accounts.locks.account_chain).
"""

from __future__ import annotations

from service.config import Settings
from service.db import write_transaction
from service.errors import NotFound, PermissionDenied
from service.models import School, User
from service.services import audit, binding, identity, processes, throttle
from service.services.accounts.locks import account_chain, clear_login_locks
from service.services.accounts.passwords import hash_password
from service.services.accounts.sessions import revoke_sessions
from service.validation.identity import normalise_id_number
from service.validation.sections import CATEGORY_MAINLAND
from service.validation.text import normalise_code

KEY_PREFIX = "recover"
BIND_PATH = "/student/start"

RecoverRequest = binding.BindRequest  # the same fields: who the student is, and the new password


def recover_limits(school_code: str, student_no: str, client: str | None, settings: Settings) -> list[throttle.Limit]:
    """binding.bind_limits' limits and windows, under the 忘记密码 key prefix."""
    addr = throttle.client_key(client)
    return [
        throttle.Limit(throttle.make_key(f"{KEY_PREFIX}-addr", addr), settings.login_address_max_failures,
                       settings.login_lock_seconds, "该网络地址找回密码失败次数过多，请 {minutes} 分钟后再试"),
        throttle.Limit(throttle.make_key(KEY_PREFIX, school_code, student_no, addr), settings.login_max_failures,
                       settings.login_lock_seconds, clear_on_success=True),
    ]


def recover_password(req: RecoverRequest, settings: Settings) -> User:
    """Check the student as binding does and set the new password; returns the account."""
    binding.check_request(req)
    school_code, student_no = normalise_code(req.school_code), normalise_code(req.student_no)
    if School.get_or_none(School.code == school_code) is None:
        raise NotFound("学校代码不存在", code="school_not_found", details={"school_code": ["学校代码不存在"]})
    number = normalise_id_number(req.id_number)
    if req.category == CATEGORY_MAINLAND:
        identity.check_token(req.verification_token, number, settings)
    ticket = throttle.reserve(recover_limits(school_code, student_no, req.client, settings))
    try:
        binding.match_roster(req, school_code, student_no, number, ticket)
        user = _reset(school_code, student_no, req.password)
    except binding.BindMismatch:
        raise  # a wrong guess keeps its slot
    except Exception:
        throttle.succeeded(ticket)  # not a guess (not bound, disabled): give the slot back
        raise
    throttle.succeeded(ticket)
    return user


def _reset(school_code: str, student_no: str, password: str) -> User:
    submitter = processes.active_definition(school_code)[1].submitter_role
    user = User.get_or_none((User.school == school_code) & (User.username == student_no) & (User.role == submitter))
    if user is None:
        raise NotFound("该学号尚未绑定学籍，请先完成学籍绑定", code="not_bound", details={"bind_url": BIND_PATH})
    if not user.active:
        raise PermissionDenied("该账号已被停用，请联系学院或就业指导中心", code="account_disabled")
    chain, record_id = account_chain(user)
    with write_transaction():
        audit.lock_chain(chain)
        User.update(password_hash=hash_password(password), must_change_password=False).where(
            User.id == user.id).execute()
        ended = revoke_sessions(user)
        cleared = clear_login_locks(user)
        audit.append(chain, record=record_id, school=school_code, actor=student_no, actor_role=submitter,
                     action="password_recovered", data_changed={"sessions_ended": ended, "locks_cleared": cleared})
    return User.get_by_id(user.id)
