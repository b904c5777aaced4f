"""Messages in the browser: everyone's message centre (/messages) and the centre's notification
page (/centre/notifications: what was sent to whom, failures with the reason and a retry button,
the message templates and how many days before the deadline students are reminded)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.errors import GradflowError
from service.services.actors import Actor
from service.services.notify import admin, configured_channels, inbox
from service.web.common import CENTRE, REVIEWER, STUDENT, page, render_error

bp = Blueprint("web_notify", __name__)
bp.register_error_handler(GradflowError, render_error)

STATUS_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败"}
CHANNEL_LABELS = {"inapp": "站内消息", "email": "电子邮件", "webhook": "短信/微信网关"}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(max(int(raw), 1), 100_000) if raw.isdigit() else 1


@bp.get("/messages")
@page(STUDENT, REVIEWER)
def messages(actor: Actor) -> str:
    return render_template("messages.html", items=inbox.messages(actor, page=_page_number()),
                           unread=inbox.unread_count(actor))


@bp.post("/messages/read")
@page(STUDENT, REVIEWER)
def mark_read(actor: Actor) -> Response:
    inbox.mark_read(actor)
    return redirect(url_for("web_notify.messages"))


def _centre_page(actor: Actor, error: GradflowError | None = None, form_kind: str = "") -> tuple[str, int]:
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else ""
    rows, counts = admin.delivery_log(actor, status=status, page=_page_number())
    return render_template(
        "centre/notifications.html", rows=rows, counts=counts, status=status, status_labels=STATUS_LABELS,
        channel_labels=CHANNEL_LABELS, templates=admin.template_rows(actor), reminder_days=admin.reminder_days(actor),
        channels=configured_channels(), error=error, form_kind=form_kind, form=request.form,
    ), (error.status if error else 200)


@bp.get("/centre/notifications")
@page(CENTRE)
def centre_notifications(actor: Actor) -> tuple[str, int]:
    return _centre_page(actor)


@bp.post("/centre/notifications/retry")
@page(CENTRE)
def retry(actor: Actor) -> Response | tuple[str, int]:
    one = request.form.get("delivery_id", "")
    try:
        count = admin.retry(actor, [int(one)] if one.isdigit() else None)
    except GradflowError as exc:
        return _centre_page(actor, exc, "retry")
    flash(f"已重新排队 {count} 条消息", "success")
    return redirect(url_for("web_notify.centre_notifications"))


@bp.post("/centre/notifications/templates/<string:kind>")
@page(CENTRE)
def save_template(kind: str, actor: Actor) -> Response | tuple[str, int]:
    try:
        admin.save_template(actor, kind[:32], request.form.get("subject", ""), request.form.get("body", ""),
                            reset=request.form.get("reset") == "1")
    except GradflowError as exc:
        return _centre_page(actor, exc, kind[:32])
    flash("消息模板已保存", "success")
    return redirect(url_for("web_notify.centre_notifications") + "#templates")


@bp.post("/centre/notifications/schedule")
@page(CENTRE)
def save_schedule(actor: Actor) -> Response | tuple[str, int]:
    try:
        days = admin.set_reminder_days(actor, request.form.get("reminder_days", ""))
    except GradflowError as exc:
        return _centre_page(actor, exc, "schedule")
    flash(f"已设置：截止前 {days} 天和 1 天提醒未完成的学生", "success")
    return redirect(url_for("web_notify.centre_notifications"))
