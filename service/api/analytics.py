"""Process analytics (issue 14): durations, rejections, throughput, backlog, burn-down, .xlsx.

Thin: parse the filter with marshmallow, authorize by role (the reviewer lanes of the caller's
BPMN, the province and admins), call services.analytics, which applies the record scope (the
centre its school, a counselor its grants, the province every school or the `school` filter).
"""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import _XLSX_DOC, Id, _attachment
from service.api.security import login_required
from service.documents import XLSX_MIME
from service.services.actors import ADMIN_ROLE, PROVINCE_ROLE, Actor
from service.services.analytics import backlog, burndown, durations, export, rejections, throughput
from service.services.analytics.filters import MAX_IDS, AnalyticsFilters, Scope, scope_for
from service.services.analytics.tables import TABLE_KEYS
from service.services.review_scope import reviewer_roles

blp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics", description="过程分析（审计记录与流程）")


def analytics_roles(actor: Actor | None = None) -> list[str]:
    """Reviewers (their scope), the province and admins (every school); never a student."""
    return [*reviewer_roles(actor), PROVINCE_ROLE, ADMIN_ROLE]


class AnalyticsArgs(Schema):
    school = fields.String(load_default="", validate=validate.Regexp(r"^[0-9A-Za-z]{0,10}$",
                                                                     error="学校代码应为 1–10 位字母或数字"),
                           metadata={"description": "学校代码（省级、管理员）；不填为全部学校"})
    college = fields.List(fields.Integer(validate=Id), load_default=list, validate=validate.Length(max=MAX_IDS))
    major = fields.List(fields.Integer(validate=Id), load_default=list, validate=validate.Length(max=MAX_IDS))
    reviewer = fields.String(load_default="", validate=validate.Length(max=64),
                             metadata={"description": "审核人账号：只统计其审核"})
    since = fields.Date(load_default=None, metadata={"description": "开始日期（北京时间，含）"})
    until = fields.Date(load_default=None, metadata={"description": "结束日期（北京时间，含）"})


class DurationArgs(AnalyticsArgs):
    by = fields.String(load_default="", validate=validate.OneOf(["", *durations.BY]),
                       metadata={"description": "再按学校、院系、专业或审核人（结束该停留者）分组：school、college、major、reviewer"})


class RejectionArgs(AnalyticsArgs):
    top = fields.Integer(load_default=rejections.TOP_REASONS, validate=validate.Range(min=1, max=rejections.MAX_TOP))


class ExportArgs(AnalyticsArgs):
    table = fields.String(required=True, validate=validate.OneOf(TABLE_KEYS),
                          metadata={"description": "导出哪张表：" + "、".join(TABLE_KEYS)})


def _scope(args: dict, actor: Actor) -> Scope:
    return scope_for(actor, AnalyticsFilters(
        school=args.get("school", ""), college=tuple(args.get("college", [])), major=tuple(args.get("major", [])),
        reviewer=args.get("reviewer", ""), since=args.get("since"), until=args.get("until")))


class DurationSchema(Schema):
    status = fields.String()
    count = fields.Integer(metadata={"description": "已结束的停留次数"})
    median_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True)
    open = fields.Integer(metadata={"description": "仍在该状态的记录数"})


class GroupDurationSchema(Schema):
    group = fields.String()
    status = fields.String()
    count = fields.Integer()
    median_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True)


class DurationsSchema(Schema):
    filters = fields.Dict()
    statuses = fields.List(fields.Nested(DurationSchema))
    by = fields.String()
    groups = fields.List(fields.Nested(GroupDurationSchema), metadata={"description": "by 不为空时：每组每状态"})


@blp.route("/durations", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(DurationArgs, location="query")
@blp.response(200, DurationsSchema)
def durations_view(args: dict, actor):
    """各状态停留时间（中位数、P90，小时），可再按学校、院系、专业或审核人分组"""
    scope = _scope(args, actor)
    by = args["by"]
    return {"filters": scope.filters.as_dict(), "statuses": durations.status_durations(scope), "by": by,
            "groups": durations.durations_by(scope, by) if by else []}


class LevelRateSchema(Schema):
    level = fields.String()
    reviews = fields.Integer()
    rejected = fields.Integer()
    rate = fields.Float(metadata={"description": "不通过率（%）"})


class ReasonSchema(Schema):
    text = fields.String()
    count = fields.Integer()
    share = fields.Float(metadata={"description": "占全部不通过（%）"})


class RejectionsSchema(Schema):
    filters = fields.Dict()
    levels = fields.List(fields.Nested(LevelRateSchema))
    reasons = fields.List(fields.Nested(ReasonSchema))
    rejected = fields.Integer()


@blp.route("/rejections", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(RejectionArgs, location="query")
@blp.response(200, RejectionsSchema)
def rejections_view(args: dict, actor):
    """各级不通过率与主要不通过原因（意见去掉空白、标点后归类）"""
    scope = _scope(args, actor)
    r = rejections.rejections(scope, top=args["top"])
    return {"filters": scope.filters.as_dict(), "levels": r.levels, "reasons": r.reasons, "rejected": r.rejected}


class ReviewerDaySchema(Schema):
    day = fields.Date()
    school = fields.String()
    reviewer = fields.String()
    name = fields.String()
    count = fields.Integer()
    rejected = fields.Integer(metadata={"description": "其中不通过"})


class ThroughputSchema(Schema):
    filters = fields.Dict()
    rows = fields.List(fields.Nested(ReviewerDaySchema))


@blp.route("/throughput", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(AnalyticsArgs, location="query")
@blp.response(200, ThroughputSchema)
def throughput_view(args: dict, actor):
    """审核人每日审核量（北京时间）"""
    scope = _scope(args, actor)
    return {"filters": scope.filters.as_dict(), "rows": throughput.throughput(scope).rows}


class BacklogSchema(Schema):
    filters = fields.Dict()
    days = fields.List(fields.Date())
    statuses = fields.List(fields.String())
    counts = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()),
                         metadata={"description": "状态 → 每日 24:00（北京时间）的记录数"})


@blp.route("/backlog", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(AnalyticsArgs, location="query")
@blp.response(200, BacklogSchema)
def backlog_view(args: dict, actor):
    """各状态积压随时间变化（每日 24:00 的记录数，由审计记录重建）"""
    scope = _scope(args, actor)
    b = backlog.backlog(scope)
    return {"filters": scope.filters.as_dict(), "days": b.days, "statuses": b.statuses, "counts": b.counts}


class BurndownSchema(Schema):
    filters = fields.Dict()
    total = fields.Integer(metadata={"description": "应报人数（已绑定记录 + 未绑定学籍）"})
    deadline = fields.DateTime(allow_none=True)
    days = fields.List(fields.Date())
    completed = fields.List(fields.Integer(), metadata={"description": "每日 24:00 累计完成"})
    daily = fields.List(fields.Integer())
    remaining = fields.List(fields.Integer())
    completed_now = fields.Integer()
    pace = fields.Float(metadata={"description": "最近 7 天平均每天完成人数"})
    projected = fields.Integer(allow_none=True)
    projected_percent = fields.Float(allow_none=True)
    deadline_passed = fields.Boolean()
    rule = fields.String()
    sentence = fields.String()


@blp.route("/burndown", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(AnalyticsArgs, location="query")
@blp.response(200, BurndownSchema)
def burndown_view(args: dict, actor):
    """完成进度（燃尽图）与截止日预计完成率；日期筛选不适用"""
    scope = _scope(args, actor)
    b = burndown.burndown(scope, current_app.config["GRADFLOW"])
    return {"filters": scope.filters.as_dict(), "total": b.total, "deadline": b.deadline, "days": b.days,
            "completed": b.completed, "daily": b.daily, "remaining": b.remaining, "completed_now": b.completed_now,
            "pace": b.pace, "projected": b.projected, "projected_percent": b.projected_percent,
            "deadline_passed": b.deadline_passed, "rule": b.rule, "sentence": b.sentence}


@blp.route("/export.xlsx", methods=["GET"])
@login_required(roles=analytics_roles)
@blp.arguments(ExportArgs, location="query")
@blp.doc(**_XLSX_DOC)
def export_view(args: dict, actor):
    """导出一张分析表（Excel；审计）"""
    body, name = export.export_table(args["table"], _scope(args, actor), current_app.config["GRADFLOW"])
    return Response(body, mimetype=XLSX_MIME, headers={"Content-Disposition": _attachment(name)})
