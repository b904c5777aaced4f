"""Audit queries for the centre (the last review level's role), admins and the province.

Who may read is services.audit_trail's rule: everyone else gets 404 (not 403), as for a record
out of scope. The same filters serve the page (/audit), this list and the .xlsx export.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from service.api.records import _XLSX_DOC, HistoryEventSchema, Id, _attachment, checked_id
from service.api.security import login_required
from service.documents import XLSX_MIME
from service.services.audit_trail import export as trail_export
from service.services.audit_trail import filters as trail
from service.services.audit_trail import page_check, since_rejection
from service.services.audit_trail.labels import FIELD_KEYS
from service.services.review_scope import reviewer_or_admin_roles

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="审计")

_TEXT = validate.Length(max=trail.MAX_TEXT, error=f"不能超过{trail.MAX_TEXT}个字符")
_INT: dict[str, str | list[Any] | dict[Any, Any]] = {"invalid": "应为整数", "too_large": "数值过大"}
_TIME: dict[str, str | list[Any] | dict[Any, Any]] = {"invalid": "时间格式不正确，应为 ISO 8601（如 2021-05-01T08:00:00+08:00）"}
_RECORD_ID = validate.Range(min=Id.min, max=Id.max, error="记录编号超出范围")


class AuditFilterArgs(Schema):
    record = fields.Integer(load_default=None, validate=_RECORD_ID, error_messages=_INT,
                            metadata={"description": "记录 id"})
    student = fields.String(load_default="", validate=_TEXT, metadata={"description": "学号、姓名或记录 id"})
    actor = fields.String(load_default="", validate=_TEXT)
    action = fields.String(load_default="", validate=_TEXT)
    level = fields.String(load_default="", validate=_TEXT)
    field = fields.String(load_default="", validate=validate.OneOf(["", *sorted(FIELD_KEYS)], error="没有这个字段"),
                          metadata={"description": "修改过的字段（如 personal.origin_region）"})
    school = fields.String(load_default="", validate=validate.Regexp(r"^[0-9A-Za-z]{0,10}$", error="学校代码格式不正确"),
                           metadata={"description": "学校代码（管理员、省级）"})
    since = fields.AwareDateTime(load_default=None, default_timezone=UTC, error_messages=_TIME)
    until = fields.AwareDateTime(load_default=None, default_timezone=UTC, error_messages=_TIME)

    @validates_schema
    def _range(self, data: dict, **_: object) -> None:
        for name in ("since", "until"):
            value = data.get(name)
            if value is not None and not 2000 <= value.year <= 2999:
                raise MarshmallowError("时间超出范围（2000 至 2999 年）", field_name=name)
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise MarshmallowError("开始时间晚于结束时间", field_name="since")


class AuditArgs(AuditFilterArgs):
    page = fields.Integer(load_default=1, error_messages=_INT,
                          validate=validate.Range(min=1, max=trail.MAX_PAGE, error=f"页码应在1至{trail.MAX_PAGE}之间"))
    per_page = fields.Integer(load_default=50, error_messages=_INT, validate=validate.Range(
        min=1, max=trail.MAX_PER_PAGE, error=f"每页1至{trail.MAX_PER_PAGE}条"))


class ChangeSchema(Schema):
    field = fields.String(metadata={"description": "section.field"})
    label = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    before_text = fields.String()
    after_text = fields.String()


class AuditEventSchema(HistoryEventSchema):
    action_label = fields.String()
    decision_label = fields.String()
    changed = fields.List(fields.Nested(ChangeSchema), metadata={"description": "修改的字段：修改前 → 修改后（证件号码已遮蔽）"})


class BrokenSchema(Schema):
    event_id = fields.Integer()
    chain_key = fields.String()
    seq = fields.Integer()
    message = fields.String()


class PageCheckSchema(Schema):
    checked = fields.Integer()
    ok = fields.Boolean()
    summary = fields.String()
    broken = fields.List(fields.Nested(BrokenSchema))


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    total = fields.Integer(metadata={"description": f"匹配的事件数，最多计到 {trail.COUNT_CAP}"})
    total_capped = fields.Boolean(metadata={"description": f"true：匹配的事件超过 {trail.COUNT_CAP} 条"})
    page = fields.Integer()
    per_page = fields.Integer()
    chain = fields.Nested(PageCheckSchema, metadata={"description": "本页事件的审计链校验结果"})


def filters_from(args: dict) -> trail.TrailFilters:
    return trail.TrailFilters(record=args["student"].strip(), record_id=args["record"], actor=args["actor"].strip(),
                              action=args["action"].strip(), level=args["level"].strip(), field=args["field"],
                              since=args["since"], until=args["until"], school=args["school"])


@blp.route("/audit", methods=["GET"])
@login_required()
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def audit_events(args: dict, actor):
    """审计记录查询（中心、管理员、省级；按记录/学生、操作人、操作、层级、时间、修改的字段筛选）；其他角色 404"""
    trail.require_reader(actor)
    result = trail.search(actor, filters_from(args), page=args["page"], per_page=args["per_page"])
    check = page_check.check_page(result.events)
    return {"items": result.items, "total": result.total, "total_capped": result.total_capped,
            "page": result.page, "per_page": result.per_page,
            "chain": {"checked": check.checked, "ok": check.ok, "summary": check.summary, "broken": check.broken}}


@blp.route("/audit/export.xlsx", methods=["GET"])
@login_required()
@blp.arguments(AuditFilterArgs, location="query")
@blp.doc(**_XLSX_DOC)
def audit_export(args: dict, actor):
    """导出筛选出的审计事件（Excel；导出本身记入审计）"""
    trail.require_reader(actor)
    filters = filters_from(args)
    body = trail_export.start_export(actor, filters)
    return Response(body, mimetype=XLSX_MIME,
                    headers={"Content-Disposition": _attachment(trail_export.download_name(actor, filters))})


class RejectionSchema(Schema):
    time = fields.DateTime()
    actor = fields.String()
    role_label = fields.String()
    level = fields.String()
    comment = fields.String()


class SinceRejectionChangeSchema(Schema):
    field = fields.String(metadata={"description": "section.field"})
    label = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class SinceRejectionSchema(Schema):
    rejection = fields.Nested(RejectionSchema, allow_none=True, metadata={"description": "最近一次不通过（没有则为 null）"})
    changes = fields.List(fields.Nested(SinceRejectionChangeSchema),
                          metadata={"description": "最近一次不通过之后修改的字段（证件号码已遮蔽）"})


@blp.route("/records/<int:record_id>/changes-since-rejection", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.response(200, SinceRejectionSchema)
def changes_since_rejection(record_id: int, actor):
    """退回后修改的内容：最近一次不通过之后学生（或审核人）修改过的字段，修改前 → 修改后"""
    return since_rejection.for_record(actor, checked_id(record_id))
