"""The province's endpoints (省级): every school's progress, one school's colleges, the export.

Thin: parse, authorize (the province role only: it is not a BPMN lane and reads only), call
services.province. Every other role gets 403 here, as on any endpoint outside its role.
"""

from __future__ import annotations

import re

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import _XLSX_DOC, _attachment
from service.api.security import login_required
from service.documents import XLSX_MIME
from service.errors import NotFound
from service.services import province
from service.services.actors import PROVINCE_ROLE
from service.services.deadlines import store as deadline_store

blp = Blueprint("province", __name__, url_prefix="/api/v1/province", description="省级：全省进度与导出")
SCHOOL_CODE = re.compile(r"[0-9A-Za-z]{1,10}")
ROLES = [PROVINCE_ROLE]


def checked_school(code: str) -> str:
    """A code no school can have (too long, odd characters, NUL) is simply not found."""
    if not SCHOOL_CODE.fullmatch(code):
        raise NotFound(f"学校 {code[:16]} 不存在", code="school_not_found")
    return code


class OverviewArgs(Schema):
    sort = fields.String(load_default="code", validate=validate.Length(max=32),
                         metadata={"description": "排序字段，'-' 前缀为降序：" + "、".join(province.SORT_KEYS)})


class ExportArgs(Schema):
    school = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16),
                           metadata={"description": "学校代码；不填为全省所有学校"})


class LevelSchema(Schema):
    level = fields.String()
    role = fields.String()
    status = fields.String()
    count = fields.Integer()


class SchoolRowSchema(Schema):
    code = fields.String()
    name = fields.String()
    version_id = fields.Integer(allow_none=True, metadata={"description": "该校新记录使用的流程版本"})
    expected = fields.Integer(metadata={"description": "应报人数（已绑定 + 未绑定）"})
    records = fields.Integer(metadata={"description": "已绑定学籍"})
    unbound = fields.Integer(metadata={"description": "未绑定学籍"})
    unsubmitted = fields.Integer(metadata={"description": "未提交"})
    submitted = fields.Integer(metadata={"description": "已提交（含审核中、不同意、完成）"})
    pending = fields.Integer(metadata={"description": "各级待审合计"})
    other_pending = fields.Integer(metadata={"description": "停留在旧流程版本审核级别的记录"})
    rejected = fields.Integer(metadata={"description": "不同意（退回学生）"})
    completed = fields.Integer(metadata={"description": "审核完成"})
    percent = fields.Float()
    levels = fields.List(fields.Nested(LevelSchema), metadata={"description": "该校流程的各审核级别及待审人数"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    deadline = fields.String(allow_none=True)
    deadline_source = fields.String(allow_none=True, metadata={"description": "school | default"})
    deadline_passed = fields.Boolean()


class OverviewSchema(Schema):
    levels = fields.List(fields.String(), metadata={"description": "各校流程中出现的审核级别（按流程顺序）"})
    items = fields.List(fields.Nested(SchoolRowSchema))
    total = fields.Nested(SchoolRowSchema)
    sort = fields.String()
    counted_at = fields.String(metadata={"description": "统计时间（UTC）：人数可能是此时的结果"})
    cached = fields.Boolean(metadata={"description": "true：人数取自不超过 max_age_seconds 秒前的统计"})
    max_age_seconds = fields.Float()


class CollegeSchema(Schema):
    college_id = fields.Integer(allow_none=True)
    name = fields.String()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    records = fields.Integer()
    unbound = fields.Integer()
    expected = fields.Integer()
    completed = fields.Integer()
    percent = fields.Float()


class SchoolDetailSchema(Schema):
    code = fields.String()
    name = fields.String()
    version_id = fields.Integer()
    levels = fields.List(fields.Dict())
    statuses = fields.List(fields.String())
    colleges = fields.List(fields.Nested(CollegeSchema))
    total = fields.Nested(CollegeSchema)
    deadline = fields.String(allow_none=True)
    deadline_source = fields.String(allow_none=True)
    extensions_in_force = fields.Integer()


def _college(c) -> dict:  # noqa: ANN001 - progress.CollegeProgress
    return {"college_id": c.college_id, "name": c.name, "by_status": c.by_status, "records": c.records,
            "unbound": c.unbound, "expected": c.expected, "completed": c.completed, "percent": round(c.percent, 1)}


@blp.route("/schools", methods=["GET"])
@login_required(roles=ROLES)
@blp.arguments(OverviewArgs, location="query")
@blp.response(200, OverviewSchema)
def schools_overview(args: dict, actor):
    """全省进度：每所学校的已绑定、已提交、各级待审、不同意、完成与截止时间"""
    s = current_app.config["GRADFLOW"]
    data = province.overview(graduation_year=s.graduation_year, default_deadline=deadline_store.default_deadline(s),
                             sort=args["sort"], max_age=s.province_counts_seconds)
    return {"levels": data.levels, "items": [r.as_dict() for r in data.schools], "total": data.total.as_dict(),
            "sort": data.sort, "counted_at": data.counted_at.isoformat(timespec="seconds"), "cached": data.cached,
            "max_age_seconds": s.province_counts_seconds}


@blp.route("/schools/<string:code>", methods=["GET"])
@login_required(roles=ROLES)
@blp.response(200, SchoolDetailSchema)
def school(code: str, actor):
    """一所学校各院系的进度"""
    d = province.school_detail(actor, checked_school(code), current_app.config["GRADFLOW"])
    return {"code": d.code, "name": d.name, "version_id": d.version_id, "levels": d.levels,
            "statuses": d.progress.statuses, "colleges": [_college(c) for c in d.progress.colleges],
            "total": _college(d.progress.total),
            "deadline": d.deadline.isoformat(timespec="seconds") if d.deadline else None,
            "deadline_source": d.deadline_source, "extensions_in_force": d.extensions_in_force}


@blp.route("/export.xlsx", methods=["GET"])
@login_required(roles=ROLES)
@blp.arguments(ExportArgs, location="query")
@blp.doc(**_XLSX_DOC)
def export(args: dict, actor):
    """导出审核完成的生源信息（一所学校或全省；国家模板列序，完整证件号码，记入审计）"""
    code = checked_school(args["school"]) if args.get("school") else None
    body, rows = province.start_export(actor, code)
    return Response(body, mimetype=XLSX_MIME, headers={
        "Content-Disposition": _attachment(province.export_name(code)), "X-Export-Rows": str(rows)})
