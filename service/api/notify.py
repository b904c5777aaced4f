"""Messages: the caller's own in-app messages, and the centre's delivery log, retries and templates.

Any signed-in account reads and marks its own messages. The centre (the school-wide review role
from the BPMN) of a school sees what was sent to whom over which channel, retries failed
deliveries, edits the message templates and the reminder schedule; everyone else gets 404 there.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import Id
from service.api.security import login_required
from service.services.actors import Actor
from service.services.notify import admin, inbox

blp = Blueprint("notify", __name__, url_prefix="/api/v1", description="消息与通知")


class MessageSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    subject = fields.String()
    body = fields.String()
    created_at = fields.String()
    read = fields.Boolean()


class MessageListSchema(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(MessageSchema))


class PageSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class ReadSchema(Schema):
    ids = fields.List(fields.Integer(validate=Id), load_default=None, allow_none=True,
                      validate=validate.Length(max=500),
                      metadata={"description": "要标为已读的消息；不传：全部"})


class CountSchema(Schema):
    count = fields.Integer()


@blp.route("/messages", methods=["GET"])
@login_required()
@blp.arguments(PageSchema, location="query")
@blp.response(200, MessageListSchema)
def list_messages(query: dict, actor: Actor) -> dict[str, Any]:
    """我的消息（最新在前）和未读数"""
    return {"unread": inbox.unread_count(actor),
            "items": [m.as_dict() for m in inbox.messages(actor, page=query["page"])]}


@blp.route("/messages/read", methods=["POST"])
@login_required()
@blp.arguments(ReadSchema)
@blp.response(200, CountSchema)
def read_messages(body: dict, actor: Actor) -> dict[str, int]:
    """标为已读：指定的消息，或全部"""
    if body.get("ids") is None:
        return {"count": inbox.mark_read(actor)}
    return {"count": sum(inbox.mark_read(actor, i) for i in body["ids"])}


class LogQuerySchema(PageSchema):
    status = fields.String(load_default="", validate=validate.OneOf(["", "pending", "sending", "sent", "failed"]))


class LogRowSchema(Schema):
    notification_id = fields.Integer()
    uid = fields.String()
    kind = fields.String()
    recipient = fields.String()
    subject = fields.String()
    created_at = fields.DateTime()
    channel = fields.String()
    delivery_id = fields.Integer(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    sent_at = fields.DateTime(allow_none=True)


class LogSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(LogRowSchema))


class RetrySchema(Schema):
    delivery_ids = fields.List(fields.Integer(validate=Id), load_default=None, allow_none=True,
                               validate=validate.Length(max=1000),
                               metadata={"description": "要重发的失败投递；不传：本校全部失败投递"})


class TemplateSchema(Schema):
    kind = fields.String()
    label = fields.String()
    subject = fields.String()
    body = fields.String()
    custom = fields.Boolean()
    placeholders = fields.List(fields.String())


class TemplateListSchema(Schema):
    reminder_days = fields.Integer()
    items = fields.List(fields.Nested(TemplateSchema))


class TemplateInSchema(Schema):
    subject = fields.String(load_default="", validate=validate.Length(max=10_000))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    reset = fields.Boolean(load_default=False, metadata={"description": "true：恢复默认文字"})


class ScheduleInSchema(Schema):
    reminder_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=admin.MAX_REMINDER_DAYS))


@blp.route("/notifications", methods=["GET"])
@login_required()
@blp.arguments(LogQuerySchema, location="query")
@blp.response(200, LogSchema)
def delivery_log(query: dict, actor: Actor) -> dict[str, Any]:
    """本校发送记录：发给谁、哪个渠道、状态与失败原因（中心）"""
    rows, counts = admin.delivery_log(actor, status=query["status"], page=query["page"])
    return {"counts": counts, "items": [r.__dict__ for r in rows]}


@blp.route("/notifications/retry", methods=["POST"])
@login_required()
@blp.arguments(RetrySchema)
@blp.response(200, CountSchema)
def retry(body: dict, actor: Actor) -> dict[str, int]:
    """把失败的投递重新排队（中心；审计）"""
    return {"count": admin.retry(actor, body.get("delivery_ids"))}


@blp.route("/notifications/templates", methods=["GET"])
@login_required()
@blp.response(200, TemplateListSchema)
def templates(actor: Actor) -> dict[str, Any]:
    """本校消息模板与提前提醒天数（中心）"""
    return {"items": admin.template_rows(actor), "reminder_days": admin.reminder_days(actor)}


@blp.route("/notifications/templates/<string:kind>", methods=["PUT"])
@login_required()
@blp.arguments(TemplateInSchema)
@blp.response(204)
def put_template(body: dict, kind: str, actor: Actor) -> None:
    """修改一种消息的文字，或恢复默认（中心；审计）"""
    admin.save_template(actor, kind[:32], body["subject"], body["body"], reset=body["reset"])


@blp.route("/notifications/schedule", methods=["PUT"])
@login_required()
@blp.arguments(ScheduleInSchema)
@blp.response(200, CountSchema)
def put_schedule(body: dict, actor: Actor) -> dict[str, int]:
    """截止前提前几天提醒未完成的学生（另在截止前 1 天再提醒一次；中心；审计）"""
    return {"count": admin.set_reminder_days(actor, body["reminder_days"])}
