"""Acting on another account: reset its password to a one-time code, unlock it, disable / enable it.

Who may act on whom, from the BPMN levels (definition.reviewer_roles, school_wide_role), never
named here:
- a reviewer, on a student whose record (or roster entry) is in their scope: reset and unlock;
- the school-wide role (中心), on review accounts of the earlier levels of its own school: all four;
- the admin, on any account but its own: all four.
Anything outside the actor's school or grants is 404 (ids leak nothing, as for records); an account
in reach but not one this actor may act on is 403.

A reset stores only the hash of the code (shown once, to the one who reset it) and flags the account
must-change: until it is changed nothing but changing it works (api.security). Reset and disable end
every session of the account; unlock clears its login counters (services.accounts.locks) so the
owner may log in at once. Each action and its audit event commit in one transaction under the
account's chain lock: a student's record chain, else its school's chain.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from service.db import write_transaction
from service.errors import InvalidInput, NotFound, PermissionDenied
from service.models import Record, RosterStudent, School, User
from service.services import audit, processes, review_scope
from service.services.accounts.locks import account_chain, clear_login_locks
from service.services.accounts.passwords import hash_password
from service.services.accounts.recovery import KEY_PREFIX as RECOVER_PREFIX
from service.services.accounts.sessions import revoke_sessions
from service.services.actors import ADMIN_ROLE, Actor
from service.workflow.definitions import ProcessDefinition

RESET, UNLOCK, DISABLE, ENABLE = "reset", "unlock", "disable", "enable"
STUDENT_ACTIONS = (RESET, UNLOCK)  # what a reviewer may do to a student in scope
ALL_ACTIONS = (RESET, UNLOCK, DISABLE, ENABLE)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I
CODE_LENGTH = 12
AUDIT_ACTIONS = {RESET: "password_reset", UNLOCK: "account_unlocked", DISABLE: "account_disabled",
                 ENABLE: "account_enabled"}


@dataclass(frozen=True)
class Outcome:
    user: User
    one_time_code: str = ""  # only for a reset: shown once, never stored in clear


def one_time_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _student_in_scope(actor: Actor, target: User) -> bool:
    record = Record.get_or_none(Record.user == target.id)
    if record is None:
        record = Record.get_or_none((Record.school == target.school_id) & (Record.student_no == target.username))
    if record is not None:
        return actor.can_see(record.school_id, record.college_id, record.major_id, record.id)
    entry = RosterStudent.get_or_none((RosterStudent.school == target.school_id)
                                      & (RosterStudent.student_no == target.username))
    return entry is not None and actor.can_see(entry.school_id, entry.college_id, entry.major_id)


def allowed_actions(actor: Actor, target: User, definition: ProcessDefinition) -> tuple[str, ...]:
    """What `actor` may do to `target`; raises 404 when the target is out of the actor's reach."""
    if not actor.is_admin and (target.school_id is None or target.school_id != actor.school_code):
        raise NotFound("账号不存在", code="account_not_found")
    if actor.user_id is not None and actor.user_id == target.id:
        return ()
    if target.role == definition.submitter_role:
        if not actor.is_admin and actor.role not in definition.reviewer_roles:
            return ()
        if not _student_in_scope(actor, target):
            raise NotFound("账号不存在", code="account_not_found")
        return ALL_ACTIONS if actor.is_admin else STUDENT_ACTIONS
    if actor.is_admin:
        return ALL_ACTIONS
    levels = list(dict.fromkeys(definition.reviewer_roles))
    if actor.role == definition.school_wide_role and target.role in levels[:levels.index(actor.role)]:
        return ALL_ACTIONS
    return ()


def _target(actor: Actor, user_id: int, action: str) -> tuple[User, ProcessDefinition]:
    if actor.role != ADMIN_ROLE and actor.role not in review_scope.reviewer_roles(actor):
        raise PermissionDenied("您的账号不能管理其他账号", code="role_not_allowed")
    target = User.get_or_none(User.id == user_id)
    if target is None:
        raise NotFound("账号不存在", code="account_not_found")
    # The levels of the target's school (a school may run its own process version).
    definition = processes.active_definition(target.school_id or actor.school_code)[1]
    if action not in allowed_actions(actor, target, definition):
        if actor.user_id == target.id:
            raise InvalidInput("不能对自己的账号执行此操作，修改密码请用“修改密码”", code="own_account")
        raise PermissionDenied("您无权对该账号执行此操作", code="role_not_allowed")
    return target, definition


def _apply(actor: Actor, user_id: int, action: str) -> Outcome:
    target, _ = _target(actor, user_id, action)
    chain, record_id = account_chain(target)
    code = one_time_code() if action == RESET else ""
    changed: dict[str, object] = {"account": target.username, "role": target.role}
    with write_transaction():
        audit.lock_chain(chain)
        if action == RESET:
            User.update(password_hash=hash_password(code), must_change_password=True).where(
                User.id == target.id).execute()
            changed["sessions_ended"] = revoke_sessions(target)
        elif action == UNLOCK:
            changed["locks_cleared"] = clear_login_locks(target, also=(RECOVER_PREFIX,))
        elif action == DISABLE:
            User.update(active=False).where(User.id == target.id).execute()
            changed["active"] = [target.active, False]
            changed["sessions_ended"] = revoke_sessions(target)
        else:
            User.update(active=True).where(User.id == target.id).execute()
            changed["active"] = [target.active, True]
        audit.append(chain, record=record_id, school=target.school_id, actor=actor.username,
                     actor_role=actor.role, action=AUDIT_ACTIONS[action], data_changed=changed)
    return Outcome(User.get_by_id(target.id), code)


def reset_password(actor: Actor, user_id: int) -> Outcome:
    """A one-time code replaces the password; the account must change it at the next login."""
    return _apply(actor, user_id, RESET)


def unlock(actor: Actor, user_id: int) -> Outcome:
    """Clear the account's login (and 忘记密码) locks: its owner may try again at once."""
    return _apply(actor, user_id, UNLOCK)


def set_enabled(actor: Actor, user_id: int, enabled: bool) -> Outcome:
    """Disable (sessions end, logins refused) or enable an account."""
    return _apply(actor, user_id, ENABLE if enabled else DISABLE)


def student_account_id(actor: Actor, record_id: int) -> int:
    """The account bound to a record the actor can see (404 for a record out of scope or never bound)."""
    query = Record.select(Record.user).where(Record.id == record_id)
    scope = actor.record_filter()
    found = (query.where(scope) if scope is not None else query).first()
    if found is None or found.user_id is None:
        raise NotFound("该学生尚未绑定账号", code="account_not_found")
    return int(found.user_id)


def school_wide_accounts(actor: Actor) -> list[User]:
    """Every school's accounts of the school-wide review role (from the BPMN), for the admin's page;
    each row carries `school_name`. Only the admin may list them (404 for anyone else)."""
    if not actor.is_admin:
        raise NotFound()
    roles = sorted({d.school_wide_role for d in processes.definitions_in_use()}
                   | {processes.active_definition(code)[1].school_wide_role for code in processes.school_versions()})
    return list(User.select(User, School.name.alias("school_name")).join(School)
                .where(User.role.in_(roles)).order_by(User.school, User.username).objects())
