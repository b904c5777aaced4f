"""Staff acting on accounts from the pages: a reviewer on a student's account (from the record page),
the centre on its reviewers (from 账号管理), admin on the centre accounts (/admin/accounts). The rule of who may act on whom is
services.accounts.admin_actions'; a one-time code is shown in this answer only (never flashed:
the flash would sit in the cookie)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, url_for
from werkzeug.wrappers import Response

from service.errors import GradflowError, NotFound
from service.services.accounts import admin_actions
from service.services.actors import Actor
from service.web.common import ADMIN, CENTRE, REVIEWER, active_definition, page, render_error

bp = Blueprint("web_accounts", __name__)
bp.register_error_handler(GradflowError, render_error)

DONE = {admin_actions.RESET: "密码已重置", admin_actions.UNLOCK: "已解除登录锁定",
        admin_actions.DISABLE: "账号已停用，其登录会话已全部结束", admin_actions.ENABLE: "账号已启用"}


def _shown_once(outcome: admin_actions.Outcome, action: str, back: str) -> Response:
    """The answer page; never cached, since it may carry a one-time code."""
    response = make_response(render_template("account_action.html", outcome=outcome, message=DONE[action], back=back))
    response.headers["Cache-Control"] = "no-store"
    return response


def _act(actor: Actor, user_id: int, action: str) -> admin_actions.Outcome:
    if action == admin_actions.RESET:
        return admin_actions.reset_password(actor, user_id)
    if action == admin_actions.UNLOCK:
        return admin_actions.unlock(actor, user_id)
    if action in (admin_actions.DISABLE, admin_actions.ENABLE):
        return admin_actions.set_enabled(actor, user_id, action == admin_actions.ENABLE)
    raise NotFound()


@bp.post("/console/records/<int:record_id>/account/<action>")
@page(REVIEWER)
def student_account(record_id: int, action: str, actor: Actor) -> Response:
    """重置密码 / 解除锁定 for the student of a record in the reviewer's scope."""
    if action not in admin_actions.STUDENT_ACTIONS:
        raise NotFound()
    outcome = _act(actor, admin_actions.student_account_id(actor, record_id), action)
    return _shown_once(outcome, action, url_for("web_console.record", record_id=record_id))


@bp.post("/centre/accounts/<int:user_id>/<action>")
@page(CENTRE, ADMIN)
def staff_account(user_id: int, action: str, actor: Actor) -> Response:
    """重置密码 / 解除锁定 / 停用 / 启用 for an account the centre (or admin) may manage."""
    if action not in admin_actions.ALL_ACTIONS:
        raise NotFound()
    outcome = _act(actor, user_id, action)
    back = url_for("web_centre.accounts_page") if not actor.is_admin else url_for("web_accounts.admin_accounts")
    return _shown_once(outcome, action, back)


@bp.get("/admin/accounts")
@page(ADMIN)
def admin_accounts(actor: Actor) -> str:
    """The admin's list of every school's centre accounts (the school-wide role from the BPMN),
    with 重置密码 / 解除锁定 / 停用 / 启用: admin is who recovers a centre account."""
    d = active_definition()
    return render_template("admin_accounts.html", accounts=admin_actions.school_wide_accounts(actor),
                           role_label=d.role_label(d.school_wide_role))
