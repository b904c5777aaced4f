"""Reviewer endpoints over records (生源管理): search, view, edit, add, history, export, sign-off sheets.

Thin: parse with marshmallow, authorize by role (roles come from the BPMN), call a service, render.
Scope is enforced in the services: a record outside it is a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.security import login_required
from service.documents import PDF_MIME, XLSX_MIME
from service.errors import NotFound
from service.services import audit_query, exports, records, records_query
from service.services.review_scope import reviewer_or_admin_roles, reviewer_roles

blp = Blueprint("records", __name__, url_prefix="/api/v1", description="生源信息（审核端）")
MAX_ID = 2**31 - 1
Id = validate.Range(min=1, max=MAX_ID)


def checked_id(record_id: int) -> int:
    """Ids beyond the column's range cannot exist (and would overflow SQLite): not found."""
    if not 1 <= record_id <= MAX_ID:
        raise NotFound()
    return record_id


class FilterArgs(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=64),
                      metadata={"description": "姓名（包含）、学号或证件号码（完整或前缀）"})
    review_status = fields.List(fields.String(validate=validate.Length(max=32)), load_default=list,
                                metadata={"description": "审核状态（流程中定义的状态，可重复）"})
    report_status = fields.List(fields.String(validate=validate.Length(max=32)), load_default=list)
    origin_region = fields.String(load_default="", validate=validate.Regexp(r"^\d{0,6}$"),
                                  metadata={"description": "生源地代码前缀：44 = 广东省，4401 = 广州市"})
    college = fields.List(fields.Integer(validate=Id), load_default=list)
    major = fields.List(fields.Integer(validate=Id), load_default=list)


class ListArgs(FilterArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=records_query.MAX_PER_PAGE))
    sort = fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "排序字段，逗号分隔，'-' 前缀为降序：" + "、".join(records_query.SORT_KEYS)})
    after = fields.String(load_default=None, validate=validate.Length(min=1, max=1024), metadata={
        "description": "翻页游标：上一页返回的 next_after（深翻页用它代替 page，sort 与筛选须相同）"})


class RefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()


class RecordItemSchema(Schema):
    id = fields.Integer()
    school_code = fields.String()
    student_no = fields.String()
    name = fields.String()
    id_number = fields.String(metadata={"description": "证件号码（列表中一律脱敏）"})
    category = fields.String()
    origin_region = fields.String()
    origin_region_label = fields.String()
    college = fields.Nested(RefSchema, allow_none=True)
    major = fields.Nested(RefSchema, allow_none=True)
    review_status = fields.String()
    report_status = fields.String()
    pending_role = fields.String()
    completed = fields.Boolean()
    lock_version = fields.Integer()
    updated_at = fields.DateTime()


class RecordPageSchema(Schema):
    items = fields.List(fields.Nested(RecordItemSchema))
    total = fields.Integer(metadata={"description": "匹配条数；total_is_estimate 为 true 时为估计值"})
    total_is_estimate = fields.Boolean(metadata={
        "description": "true：匹配条数超过 list_exact_count_limit，total 为数据库的估计值（仅 PostgreSQL）"})
    page = fields.Integer(allow_none=True, metadata={"description": "页码；按游标（after）取页时为 null"})
    per_page = fields.Integer()
    next_after = fields.String(allow_none=True, metadata={"description": "下一页的游标（after=…）；最后一页为 null"})


class PendingSchema(Schema):
    role = fields.String()
    status = fields.String()
    level = fields.String()
    task = fields.String()
    title = fields.String()


class RecordSchema(RecordItemSchema):
    id_number_masked = fields.Boolean()
    data = fields.Dict(metadata={"description": "{school: {...}, personal: {...}, other: {...}}"})
    pending = fields.List(fields.Nested(PendingSchema))
    editable = fields.Boolean()
    edit_refused = fields.String(metadata={"description": "why the caller may not edit now (empty when editable)"})
    reviewable = fields.Boolean()
    submittable_on_behalf = fields.Boolean(metadata={"description": "the caller may 代为提交 now (POST …/submit-on-behalf)"})
    has_account = fields.Boolean(metadata={"description": "the student has bound an account to this record"})
    created_by = fields.String()
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    account_id = fields.Integer(allow_none=True, metadata={
        "description": "the bound student account, for /api/v1/accounts/{id}/… (null before binding)"})


class RecordGetArgs(Schema):
    full_id = fields.Boolean(load_default=False,
                             metadata={"description": "显示完整证件号码（仅中心角色；每次查看均记入审计）"})


class SectionsSchema(Schema):
    school = fields.Dict()
    personal = fields.Dict()
    other = fields.Dict()


class EditSchema(Schema):
    data = fields.Nested(SectionsSchema, required=True)
    lock_version = fields.Integer(load_default=None, allow_none=True, validate=Id,
                                  metadata={"description": "读取时的 lock_version；已被他人修改时返回409"})


class AddSchema(Schema):
    student_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    data = fields.Nested(SectionsSchema, load_default=dict)


class EditResultSchema(Schema):
    record = fields.Nested(RecordSchema)
    warnings = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    changed = fields.Dict()


class HistoryEventSchema(Schema):
    id = fields.Integer()
    time = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    role_label = fields.String()
    action = fields.String()
    level = fields.String()
    task = fields.String()
    decision = fields.String()
    comment = fields.String()
    status_before = fields.String()
    status_after = fields.String()
    edited_fields = fields.List(fields.String())
    changes = fields.Raw(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    school_code = fields.String(allow_none=True)
    seq = fields.Integer()
    chain = fields.String()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEventSchema))


SIGNOFF_FORM_HELP = "sheet = 每人一页（默认）；class_list = 班级名单（每人一行，含学生签字栏）"


class SignoffArgs(FilterArgs):
    form = fields.String(load_default="sheet", metadata={"description": SIGNOFF_FORM_HELP})


class SignoffOneArgs(Schema):
    form = fields.String(load_default="sheet", metadata={"description": SIGNOFF_FORM_HELP})


def _filters(args: dict) -> records_query.RecordFilters:
    return records_query.RecordFilters(
        q=args.get("q", ""), review_status=args.get("review_status", []), report_status=args.get("report_status", []),
        origin_region=args.get("origin_region", ""), college=args.get("college", []), major=args.get("major", []),
    )


_XLSX_DOC = {"responses": {"200": {"description": "Excel 文件（流式输出）",
                                   "content": {XLSX_MIME: {"schema": {"type": "string", "format": "binary"}}}}}}
_PDF_DOC = {"responses": {"200": {"description": "PDF，每名学生一页（学生签字核对）",
                                  "content": {PDF_MIME: {"schema": {"type": "string", "format": "binary"}}}}}}


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


@blp.route("/records", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.arguments(ListArgs, location="query")
@blp.response(200, RecordPageSchema)
def list_records(args: dict, actor):
    """生源信息列表：关键字、审核状态、上报状态、生源地、学院、专业筛选，分页（页码或游标 after）"""
    page = records_query.search(actor, _filters(args), page=args["page"], per_page=args["per_page"],
                                sort=args["sort"], after=args["after"],
                                exact_count_limit=current_app.config["GRADFLOW"].list_exact_count_limit)
    return {"items": page.items, "total": page.total, "total_is_estimate": page.total_is_estimate,
            "page": page.page, "per_page": page.per_page, "next_after": page.next_after}


@blp.route("/records", methods=["POST"])
@login_required(roles=reviewer_roles)
@blp.arguments(AddSchema)
@blp.response(201, EditResultSchema)
def add_record(body: dict, actor):
    """添加生源信息：为学籍库中尚无记录的学生添加，提交后进入第一级审核"""
    return records.add_record(actor, body["student_no"], body.get("data") or {})


@blp.route("/records/<int:record_id>", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.arguments(RecordGetArgs, location="query")
@blp.response(200, RecordSchema)
def get_record(args: dict, record_id: int, actor):
    """查看生源信息（full_id=true 查看完整证件号码，仅中心，记入审计）"""
    return records.get_record(actor, checked_id(record_id), reveal_id=args["full_id"],
                              settings=current_app.config["GRADFLOW"])


@blp.route("/records/<int:record_id>", methods=["PATCH"])
@login_required(roles=reviewer_roles)
@blp.arguments(EditSchema)
@blp.response(200, EditResultSchema)
def edit_record(body: dict, record_id: int, actor):
    """编辑生源信息（待审或不同意时；完成后不可编辑）"""
    return records.edit_record(actor, checked_id(record_id), body["data"], expected_version=body.get("lock_version"))


@blp.route("/records/<int:record_id>/history", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.response(200, HistorySchema)
def record_history(record_id: int, actor):
    """审核记录"""
    return {"items": audit_query.record_history(actor, checked_id(record_id))}


@blp.route("/records/export.xlsx", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.arguments(FilterArgs, location="query")
@blp.doc(**_XLSX_DOC)
def export_records(args: dict, actor):
    """导出生源信息（Excel，国家模板列序，代码与名称列）"""
    filters = _filters(args)
    body = exports.start_export(actor, filters)
    name = exports.download_name(actor, filters, "生源信息", "xlsx")
    return Response(body, mimetype=XLSX_MIME, headers={"Content-Disposition": _attachment(name)})


@blp.route("/records/<int:record_id>/signoff.pdf", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.arguments(SignoffOneArgs, location="query")
@blp.doc(**_PDF_DOC)
def signoff_one(args: dict, record_id: int, actor):
    """学生签字核对表（单人）；未提交的记录 409 not_submitted"""
    result = exports.signoff_for_record(actor, checked_id(record_id), form=args["form"])
    return Response(result.pdf, mimetype=PDF_MIME, headers={
        "Content-Disposition": _attachment(f"签字核对表-{record_id}.pdf"), **exports.signoff_headers(result)})


@blp.route("/records/signoff.pdf", methods=["GET"])
@login_required(roles=reviewer_or_admin_roles)
@blp.arguments(SignoffArgs, location="query")
@blp.doc(**_PDF_DOC)
def signoff_many(args: dict, actor):
    """学生签字核对表（按专业等筛选）：每人一页或班级名单；未提交的记录不打印，X-Signoff-Omitted-Unsubmitted 给出条数"""
    filters = _filters(args)
    result, omitted = exports.signoff_for_filters(actor, filters, form=args["form"])
    name = exports.download_name(actor, filters, "签字核对表" if args["form"] == "sheet" else "签字名单", "pdf")
    return Response(result.pdf, mimetype=PDF_MIME, headers={
        "Content-Disposition": _attachment(name), **exports.signoff_headers(result, omitted)})
