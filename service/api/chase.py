"""Chase lists (催办) for reviewers: counts by state and unit, a page of students, the .xlsx export.

Thin: parse with marshmallow, authorize by role (reviewer lanes from the BPMN), call
services.chase. Scope is the service's: a counselor's grants, the centre's whole school.
"""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import _XLSX_DOC, Id, _attachment
from service.api.security import login_required
from service.documents import XLSX_MIME
from service.services.chase import export as chase_export
from service.services.chase import query as chase
from service.services.notify import reminders
from service.services.review_scope import reviewer_roles

blp = Blueprint("chase", __name__, url_prefix="/api/v1", description="催办名单（审核端）")


class ChaseFilterArgs(Schema):
    state = fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=list,
                        metadata={"description": "未绑定，或流程中学生待办（未提交、不同意）与各级待审的状态，可重复；不填为全部"})
    college = fields.List(fields.Integer(validate=Id), load_default=list)
    major = fields.List(fields.Integer(validate=Id), load_default=list)
    class_ = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                         data_key="class", metadata={"description": "班级（学籍中的班级名称）"})
    pending_days = fields.Integer(load_default=None, allow_none=True,
                                  validate=validate.Range(min=0, max=chase.MAX_PENDING_DAYS),
                                  metadata={"description": "只列出在审核级别停留超过N天的记录（只作用于待审状态）"})


class ChaseListArgs(ChaseFilterArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=chase.MAX_PER_PAGE))


class StateSchema(Schema):
    label = fields.String()
    kind = fields.String(metadata={"description": "unbound | draft | rejected | pending"})
    level = fields.String()
    count = fields.Integer()


class GroupSchema(Schema):
    college = fields.Dict(allow_none=True)
    major = fields.Dict(allow_none=True)
    class_name = fields.String(data_key="class")
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class ChaseItemSchema(Schema):
    state = fields.String()
    since = fields.DateTime(allow_none=True, metadata={"description": "进入该状态的时间（UTC）；未绑定为学籍导入时间"})
    days = fields.Integer(allow_none=True)
    student_no = fields.String()
    name = fields.String()
    class_name = fields.String(data_key="class")
    phone = fields.String(metadata={"description": "手机：记录中填写的，否则学籍中的（未知为空）"})
    college = fields.Dict(allow_none=True)
    major = fields.Dict(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True, metadata={"description": "学生账号（无账号为空）"})


class ChasePageSchema(Schema):
    states = fields.List(fields.Nested(StateSchema))
    total = fields.Integer()
    by_college = fields.List(fields.Nested(GroupSchema))
    by_major = fields.List(fields.Nested(GroupSchema))
    by_class = fields.List(fields.Nested(GroupSchema))
    items = fields.List(fields.Nested(ChaseItemSchema))
    page = fields.Integer()
    per_page = fields.Integer()


def graduation_year() -> int:
    return current_app.config["GRADFLOW"].graduation_year


def filters_from(args: dict) -> chase.ChaseFilters:
    return chase.ChaseFilters(states=args.get("state", []), college=args.get("college", []),
                              major=args.get("major", []), class_name=args.get("class_", []),
                              pending_days=args.get("pending_days"))


def _unit(unit_id: int | None, name: str) -> dict | None:
    return {"id": unit_id, "name": name} if unit_id else None


def _group(g: chase.GroupCount) -> dict:
    return {"college": _unit(g.college_id, g.college), "major": _unit(g.major_id, g.major),
            "class_name": g.class_name, "by_state": g.by_state, "total": g.total}


@blp.route("/chase", methods=["GET"])
@login_required(roles=reviewer_roles)
@blp.arguments(ChaseListArgs, location="query")
@blp.response(200, ChasePageSchema)
def chase_list(args: dict, actor):
    """催办名单：未绑定、未提交、不同意，或在某一审核级别停留超过N天的学生；按院系、专业、班级计数，分页"""
    result = chase.chase_page(actor, filters_from(args), graduation_year(), page=args["page"],
                              per_page=args["per_page"])
    c = result.counts
    return {
        "states": [{"label": s.label, "kind": s.kind, "level": s.level, "count": c.by_state.get(s.label, 0)}
                   for s in c.states],
        "total": result.total, "page": result.page, "per_page": result.per_page,
        "by_college": [_group(g) for g in c.by_college], "by_major": [_group(g) for g in c.by_major],
        "by_class": [_group(g) for g in c.by_class],
        "items": [{"state": r.state, "since": r.since, "days": r.days(), "student_no": r.student_no,
                   "name": r.name, "class_name": r.class_name, "phone": r.phone,
                   "college": _unit(r.college_id, r.college), "major": _unit(r.major_id, r.major),
                   "record_id": r.record_id, "user_id": r.user_id} for r in result.items],
    }


@blp.route("/chase/export.xlsx", methods=["GET"])
@login_required(roles=reviewer_roles)
@blp.arguments(ChaseFilterArgs, location="query")
@blp.doc(**_XLSX_DOC)
def chase_export_xlsx(args: dict, actor):
    """导出催办名单（Excel：学号、姓名、班级、手机、状态、起始时间）"""
    f = filters_from(args)
    body = chase_export.start_export(actor, f, graduation_year())
    return Response(body, mimetype=XLSX_MIME,
                    headers={"Content-Disposition": _attachment(chase_export.download_name(actor, f))})


class RemindedSchema(Schema):
    count = fields.Integer(metadata={"description": "提醒的学生人数"})


@blp.route("/chase/remind", methods=["POST"])
@login_required(roles=reviewer_roles)
@blp.arguments(ChaseFilterArgs, location="query")
@blp.response(200, RemindedSchema)
def chase_remind(args: dict, actor):
    """提醒名单中的学生（站内消息，及已配置的邮件、短信/微信网关；审计）"""
    return {"count": reminders.remind_listed(actor, filters_from(args), current_app.config["GRADFLOW"])}
