"""What every page needs: who is logged in, which roles a page serves, CSRF for forms, errors as pages.

Which role is "the student", "a reviewer" or "the centre" is read from the active BPMN (the
submitter lane, the review lanes, the last review lane), never written here as a constant.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from service.api.security import csrf_token, current_actor
from service.clock import beijing_text
from service.codes import region_path
from service.config import Settings
from service.errors import GradflowError, PermissionDenied, Unauthorized
from service.services import processes, review_scope
from service.services.actors import ADMIN_ROLE, PROVINCE_ROLE, Actor
from service.workflow.definitions import ProcessDefinition

DISPLAY_TZ = timezone(timedelta(hours=8))  # times are stored in UTC and shown in Beijing time
# Page kinds and the roles they admit, computed from the active definition.
STUDENT, REVIEWER, CENTRE, ADMIN, PROVINCE = "student", "reviewer", "centre", "admin", "province"


def settings() -> Settings:
    return current_app.config["GRADFLOW"]


def active_definition() -> ProcessDefinition:
    """The definition of the logged-in account's school (its own version, else the default)."""
    actor = current_actor()
    return processes.active_definition(actor.school_code if actor is not None else None)[1]


def roles_for(kind: str, definition: ProcessDefinition | None = None) -> set[str]:
    d = definition or active_definition()
    if kind == STUDENT:
        return {d.submitter_role}
    if kind == REVIEWER:
        return set(d.reviewer_roles)
    if kind == CENTRE:  # the last review level is the school-wide one (中心)
        return {d.school_wide_role}
    if kind == ADMIN:
        return {ADMIN_ROLE}
    if kind == PROVINCE:  # not a lane: the deployment's provincial account
        return {PROVINCE_ROLE}
    raise ValueError(kind)


def home_url(actor: Actor) -> str:
    """Where an account lands after logging in."""
    if actor.is_admin:
        return url_for("web_centre.process_versions")
    if actor.is_province:
        return url_for("web_province.overview")
    d = active_definition()
    if actor.role == d.submitter_role:
        return url_for("web_student.home")
    if actor.role in roles_for(CENTRE, d):
        return url_for("web_centre.dashboard")
    return url_for("web_console.index")


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to after login; anything a browser could read as another site is dropped.

    Browsers treat a backslash like a slash and drop tabs/newlines in URLs, so a backslash after the
    first slash (also sent as `/%5Cevil`, decoded before it gets here) or a tab would reach `//evil`.
    Only a single leading slash followed by a non-slash, with no backslash, control character or
    whitespace, is accepted.
    """
    if not target or len(target) > 2048:
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def page(*kinds: str) -> Callable:
    """Decorator for page views: logs in via redirect, admits the listed kinds, passes `actor=`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                return redirect(url_for("web_auth.login", next=request.full_path))
            if kinds:
                allowed: set[str] = set()
                d = active_definition()
                for kind in kinds:
                    allowed |= roles_for(kind, d)
                if REVIEWER in kinds:  # also the levels of versions the school used before a roll back
                    allowed |= set(review_scope.reviewer_roles(actor))
                if actor.role not in allowed:
                    raise PermissionDenied("您的账号不能访问此页面")
            return view(*args, actor=actor, **kwargs)

        return wrapper

    return decorate


def check_form_csrf() -> None:
    """For forms posted before login (login, bind): the token must match the session's."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("页面已过期，请刷新后重试", code="csrf_failed")


def render_error(exc: GradflowError) -> tuple[str, int] | Response:
    if isinstance(exc, Unauthorized) and request.method == "GET":
        return redirect(url_for("web_auth.login", next=request.full_path))
    return render_template("error.html", error=exc), exc.status


def install_page_helpers(app: Flask) -> None:
    """Template globals: csrf_token(), the actor, role kinds and the process's labels."""

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from service.web import forms

        return {"csrf_token": csrf_token, "current_actor": current_actor, "nav_items": _nav_items,
                "status_kind": status_kind, "display": forms.display, "form_value": forms.form_value,
                "region_levels": forms.region_levels, "unread_messages": _unread_messages}

    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(region_short, "region_short")


def _unread_messages() -> int:
    from service.services.notify import inbox

    actor = current_actor()
    return inbox.unread_count(actor) if actor is not None else 0


def local_time(value: datetime | str | None) -> str:
    """A stored instant in Beijing time, to the minute (the one rule in service.clock)."""
    return beijing_text(value)


def region_short(code: str | None) -> str:
    """生源地 in a list: the province and the county (广东省 天河区)."""
    if not code:
        return ""
    path = region_path(code)
    if not path:
        return code
    return path[0].label if len(path) == 1 else f"{path[0].label} {path[-1].label}"


def _nav_items() -> list[tuple[str, str, str]]:
    """(endpoint, label, url) for the top bar of the logged-in account."""
    actor = current_actor()
    if actor is None:
        return []
    items: list[tuple[str, str]] = []
    if actor.is_admin:
        items = [("web_centre.process_versions", "流程版本"), ("web_centre.dashboard", "进度"),
                 ("web_accounts.admin_accounts", "中心账号"), ("web_audit.audit_page", "审计日志")]
    elif actor.is_province:
        items = [("web_province.overview", "全省进度"), ("web_audit.audit_page", "审计日志")]
    else:
        try:
            d = active_definition()
        except GradflowError:
            return []
        if actor.role == d.submitter_role:
            items = [("web_student.home", "我的生源信息")]
        elif actor.role in roles_for(CENTRE, d):
            items = [("web_console.index", "生源管理"), ("web_centre.dashboard", "进度"),
                     ("web_centre.roster", "学籍导入"), ("web_centre.accounts_page", "账号管理"),
                     ("web_deadline.deadline_page", "截止时间"), ("web_notify.centre_notifications", "消息通知"),
                     ("web_centre.process_versions", "流程版本"), ("web_audit.audit_page", "审计日志")]
        elif actor.role in review_scope.reviewer_roles(actor):
            items = [("web_console.index", "生源管理")]
    if items and not (actor.is_admin or actor.is_province):
        unread = _unread_messages()
        items.append(("web_notify.messages", f"消息（{unread}）" if unread else "消息"))
    return [(endpoint, label, url_for(endpoint)) for endpoint, label in items]


def status_kinds(definition: ProcessDefinition) -> dict[str, str]:
    """Each status label's kind for styling: draft (first submit), pending (review), rejected, done."""
    meta = definition.meta
    kinds: dict[str, str] = {}
    for task in meta["tasks"].values():
        if task["action"] == "review":
            kinds[task["status"]] = "pending"
        else:
            kinds[task["status"]] = "draft" if task["status"] == meta["initial_status"] else "rejected"
    for end in meta.get("ends", {}).values():
        kinds[end["status"]] = "done"
    return kinds


def status_kind(status: str) -> str:
    try:
        return status_kinds(active_definition()).get(status, "")
    except GradflowError:
        return ""
