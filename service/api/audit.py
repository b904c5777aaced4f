"""Audit queries for the centre (the last review level's role) and admins, limited to their scope."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.records import HistoryEventSchema, Id
from service.api.security import login_required
from service.services import audit_query
from service.services.review_scope import audit_roles

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="审计")


class AuditArgs(Schema):
    record = fields.Integer(load_default=None, validate=Id)
    actor = fields.String(load_default="", validate=validate.Length(max=64))
    action = fields.String(load_default="", validate=validate.Length(max=32))
    since = fields.DateTime(load_default=None)
    until = fields.DateTime(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=audit_query.MAX_PER_PAGE))


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(HistoryEventSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


@blp.route("/audit", methods=["GET"])
@login_required(roles=audit_roles)
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def audit_events(args: dict, actor):
    """审计记录查询（中心、管理员；按记录、操作人、操作、时间筛选）"""
    filters = audit_query.AuditFilters(record=args["record"], actor=args["actor"], action=args["action"],
                                       since=args["since"], until=args["until"])
    items, total = audit_query.search_audit(actor, filters, page=args["page"], per_page=args["per_page"])
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}
