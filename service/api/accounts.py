"""Acting on other accounts: reset to a one-time code, unlock, disable, enable.

Who may act on whom is services.accounts.admin_actions' rule (reviewers on students in scope, the
centre on its earlier-level reviewers, the admin on anyone): this module only parses and answers.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.security import login_required
from service.services.accounts import admin_actions
from service.services.actors import Actor

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts", description="Account recovery by staff")


def _state(outcome: admin_actions.Outcome) -> dict[str, Any]:
    user = outcome.user
    return {"id": user.id, "username": user.username, "role": user.role, "school_code": user.school_id,
            "active": user.active, "must_change_password": user.must_change_password}


@blp.route("/<int:user_id>/reset-password", methods=["POST"])
@login_required()
def reset_password(user_id: int, actor: Actor) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The one-time code is in this answer only (never cached): it is stored hashed, as the new password."""
    outcome = admin_actions.reset_password(actor, user_id)
    return {**_state(outcome), "one_time_code": outcome.one_time_code}, 200, {"Cache-Control": "no-store"}


@blp.route("/<int:user_id>/unlock", methods=["POST"])
@login_required()
def unlock(user_id: int, actor: Actor) -> dict[str, Any]:
    return _state(admin_actions.unlock(actor, user_id))


@blp.route("/<int:user_id>/disable", methods=["POST"])
@login_required()
def disable(user_id: int, actor: Actor) -> dict[str, Any]:
    return _state(admin_actions.set_enabled(actor, user_id, False))


@blp.route("/<int:user_id>/enable", methods=["POST"])
@login_required()
def enable(user_id: int, actor: Actor) -> dict[str, Any]:
    return _state(admin_actions.set_enabled(actor, user_id, True))
