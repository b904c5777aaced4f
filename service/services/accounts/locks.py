"""What recovery and the admin actions share: clearing an account's login locks, and where its
account events are audited.

An account's login failures live in services.throttle under keys that name it: the pair counters
"login:<school>:<username>:<address>" (one per address it was guessed from) and the account-wide
slow-down "login-acct:<school>:<username>". Clearing them lets the owner log in at once; the
per-address counters ("login-addr:…") are left alone, they belong to the address, not the account.
"""

from __future__ import annotations

from service.models import Record, Throttle, User
from service.services import audit, throttle
from service.services.schools import school_chain


def clear_login_locks(user: User, *, also: tuple[str, ...] = ()) -> int:
    """Delete the login counters of `user` (and those of the `also` key prefixes, e.g. 忘记密码);
    returns how many rows went."""
    school = user.school_id or "-"
    keys = [throttle.make_key("login-acct", school, user.username)]
    clause = Throttle.key.in_(keys)
    for prefix in ("login", *also):
        clause = clause | Throttle.key.startswith(throttle.make_key(prefix, school, user.username) + ":")
    return Throttle.delete().where(clause).execute()


def account_chain(user: User) -> tuple[str, int | None]:
    """(chain, record id): a student's account events go on their record's chain, any other account's on
    its school's chain (admin accounts, which have no school, on the system chain)."""
    record = Record.get_or_none(Record.user == user.id)
    if record is not None:
        return audit.record_chain(record.id), record.id
    if user.school_id:
        return school_chain(user.school_id), None
    return "system", None
