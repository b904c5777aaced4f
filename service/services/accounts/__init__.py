"""Accounts, one module per use case: password rules (passwords), logging in (login), sessions
(sessions), who creates whom (creation), forgotten passwords (recovery) and what reviewers, the
centre and the admin may do to other accounts (admin_actions).

The long-standing public API is re-exported here, so `accounts.create_user(...)` keeps working.
recovery and admin_actions are imported by their own path (they depend on binding and audit, which
themselves use this package).
"""

from service.services.accounts.creation import (
    account_roles,
    creatable_roles,
    create_user,
    definition_for_role,
)
from service.services.accounts.login import authenticate, login_limits
from service.services.accounts.passwords import (
    COMMON_PASSWORDS_FILE,
    MIN_PASSWORD_LENGTH,
    check_password_strength,
    hash_password,
)
from service.services.accounts.sessions import (
    SESSION_TOUCH_SECONDS,
    SessionCaller,
    caller_for_session,
    change_own_password,
    end_session,
    revoke_sessions,
    set_active,
    set_password,
    start_session,
    user_for_session,
)

__all__ = [
    "COMMON_PASSWORDS_FILE", "MIN_PASSWORD_LENGTH", "SESSION_TOUCH_SECONDS", "SessionCaller", "authenticate", "caller_for_session", "change_own_password",
    "check_password_strength",
    "account_roles", "creatable_roles", "create_user", "definition_for_role", "end_session", "hash_password", "login_limits", "revoke_sessions",
    "set_active", "set_password", "start_session", "user_for_session",
]
