"""The school's deadline, resubmission window and extensions (per college / per student).

The centre (the role of the school-wide last review level, read from the BPMN) of the school reads
and changes them; the school's other reviewers may read. Instants are ISO 8601 with an offset
(e.g. 2020-11-05T12:00+08:00; without one the time is read as Beijing time); answers are UTC.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import Id
from service.api.security import login_required
from service.services.actors import Actor
from service.services.deadlines import store
from service.services.review_scope import centre_role, reviewer_roles

blp = Blueprint("deadline", __name__, url_prefix="/api/v1/deadline", description="截止时间与延期")

Instant = validate.Length(max=64)


def _centre_roles(actor: Actor | None = None) -> list[str]:
    return [centre_role(actor)]


class DeadlineInSchema(Schema):
    deadline = fields.String(allow_none=True, validate=Instant,
                             metadata={"description": "学校截止时间（ISO 8601，带时区）；空或 null：使用系统默认 "
                                                      "GRADFLOW_DEADLINE；不传：不变"})
    resubmit_until = fields.String(allow_none=True, validate=Instant,
                                   metadata={"description": "被退回（不同意）的记录可重新提交至此时间；空或 null：不设；"
                                                            "不传：不变"})


class ExtensionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "college 或 student"})
    college_id = fields.Integer(allow_none=True)
    college_name = fields.String()
    student_no = fields.String()
    until = fields.String()
    reason = fields.String()
    created_by = fields.String()
    created_at = fields.String()


class DeadlineOutSchema(Schema):
    school_code = fields.String()
    deadline = fields.String(allow_none=True, metadata={"description": "学校实际适用的截止时间（UTC）"})
    source = fields.String(allow_none=True, metadata={"description": "school（中心设置）/ default（系统默认）"})
    school_deadline = fields.String(allow_none=True)
    default_deadline = fields.String(allow_none=True)
    resubmit_until = fields.String(allow_none=True)
    updated_by = fields.String()
    updated_at = fields.String(allow_none=True)
    deadline_passed = fields.Boolean()
    extensions = fields.List(fields.Nested(ExtensionSchema))


class ExtensionInSchema(Schema):
    college_id = fields.Integer(load_default=None, allow_none=True, validate=Id)
    student_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    until = fields.String(required=True, validate=Instant)
    reason = fields.String(required=True, validate=validate.Length(max=10_000),
                           metadata={"description": "延期原因（1–200 个字符）"})


class ExtensionListSchema(Schema):
    items = fields.List(fields.Nested(ExtensionSchema))


@blp.route("", methods=["GET"])
@login_required(reviewer_roles)
@blp.response(200, DeadlineOutSchema)
def get_deadline(actor: Actor) -> dict[str, Any]:
    """本校截止时间、重新提交期限和延期（本校审核账号可查看）"""
    return store.overview(actor, current_app.config["GRADFLOW"]).as_dict()


@blp.route("", methods=["PUT"])
@login_required(_centre_roles)
@blp.arguments(DeadlineInSchema)
@blp.response(200, DeadlineOutSchema)
def put_deadline(body: dict, actor: Actor) -> dict[str, Any]:
    """设置本校截止时间和重新提交期限（中心；审计）。未传的项保持不变，null 清除"""
    return store.set_deadline(actor, current_app.config["GRADFLOW"],
                              deadline=body.get("deadline", store.UNCHANGED),
                              resubmit_until=body.get("resubmit_until", store.UNCHANGED)).as_dict()


@blp.route("/extensions", methods=["GET"])
@login_required(reviewer_roles)
@blp.response(200, ExtensionListSchema)
def list_extensions(actor: Actor) -> dict[str, Any]:
    """本校的院系延期和个人延期"""
    return {"items": [e.as_dict() for e in store.list_extensions(actor)]}


@blp.route("/extensions", methods=["POST"])
@login_required(_centre_roles)
@blp.arguments(ExtensionInSchema)
@blp.response(201, ExtensionSchema)
def add_extension(body: dict, actor: Actor) -> dict[str, Any]:
    """为一个院系（college_id）或一名学生（student_no）延期（中心；审计）"""
    return store.add_extension(actor, until=body["until"], reason=body["reason"], college_id=body["college_id"],
                               student_no=body["student_no"]).as_dict()


@blp.route("/extensions/<int:extension_id>", methods=["DELETE"])
@login_required(_centre_roles)
@blp.response(204)
def remove_extension(extension_id: int, actor: Actor) -> None:
    """删除一条延期（中心；审计）"""
    store.remove_extension(actor, extension_id)
