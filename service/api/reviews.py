"""Review endpoints: the majors sidebar with pending counts, single review, batch review, 代为提交."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.api.records import Id, checked_id
from service.api.security import login_required
from service.services import reviews
from service.services.on_behalf.submit import submit_on_behalf
from service.services.review_scope import reviewer_roles

blp = Blueprint("reviews", __name__, url_prefix="/api/v1", description="审核")


class MajorCountSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    pending = fields.Integer(metadata={"description": "在您审核环节待审的记录数"})


class CollegeCountSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    pending = fields.Integer()
    majors = fields.List(fields.Nested(MajorCountSchema))


class MajorsSchema(Schema):
    colleges = fields.List(fields.Nested(CollegeCountSchema))
    pending = fields.Integer()


class ReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    comment = fields.String(load_default="", validate=validate.Length(max=500))
    version = fields.Integer(load_default=None, allow_none=True, validate=Id,
                             metadata={"description": "读取时的 lock_version；他人已处理时返回409"})

    @validates_schema
    def comment_for_reject(self, data: dict, **kwargs: object) -> None:
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            raise ValidationError("请输入审核意见", field_name="comment")


class ReviewResultSchema(Schema):
    record_id = fields.Integer()
    status_before = fields.String()
    status_after = fields.String()
    report_status = fields.String()
    lock_version = fields.Integer()
    decision = fields.String()


class OnBehalfSchema(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=Id,
                             metadata={"description": "读取时的 lock_version；他人已处理时返回409"})


class BatchSchema(ReviewSchema):
    record_ids = fields.List(fields.Integer(validate=Id), load_default=list,
                             validate=validate.Length(max=reviews.MAX_BATCH))
    majors = fields.List(fields.Integer(validate=Id), load_default=list, validate=validate.Length(max=1000))

    @validates_schema
    def one_selection(self, data: dict, **kwargs: object) -> None:
        if bool(data.get("record_ids")) == bool(data.get("majors")):
            raise ValidationError("请选择记录或专业（二者选其一）", field_name="record_ids")


class SkippedSchema(Schema):
    record_id = fields.Integer(allow_none=True)
    major_id = fields.Integer()
    reason = fields.String(metadata={"description": "already_reviewed | not_at_your_level | not_found (also for records out of your scope) | process_condition_failed"})
    message = fields.String()


class BatchResultSchema(Schema):
    decision = fields.String()
    requested = fields.Integer()
    candidates = fields.Integer()
    succeeded = fields.Integer()
    skipped_count = fields.Integer()
    skipped = fields.List(fields.Nested(SkippedSchema))
    status_after = fields.Dict(keys=fields.String(), values=fields.Integer())


@blp.route("/review/majors", methods=["GET"])
@login_required(roles=reviewer_roles)
@blp.response(200, MajorsSchema)
def majors(actor):
    """管辖专业及在您审核环节待审的数量（按学院分组）"""
    colleges = reviews.majors_with_pending(actor)
    return {"colleges": colleges, "pending": sum(c["pending"] for c in colleges)}


@blp.route("/records/<int:record_id>/review", methods=["POST"])
@login_required(roles=reviewer_roles)
@blp.arguments(ReviewSchema)
@blp.response(200, ReviewResultSchema)
def review(body: dict, record_id: int, actor):
    """审核：通过，或不通过（须填写审核意见）"""
    result = reviews.review_one(actor, checked_id(record_id), body["decision"], body.get("comment", ""),
                                expected_version=body.get("version"))
    return result.__dict__


@blp.route("/reviews/batch", methods=["POST"])
@login_required(roles=reviewer_roles)
@blp.arguments(BatchSchema)
@blp.response(200, BatchResultSchema)
def batch(body: dict, actor):
    """批量审核（所选记录，或所选专业中在您审核环节的全部记录）"""
    result = reviews.review_batch(actor, body["decision"], body.get("comment", ""),
                                  record_ids=body.get("record_ids"), majors=body.get("majors"))
    out = dict(result.__dict__)
    out["skipped_count"] = len(result.skipped)
    return out


@blp.route("/records/<int:record_id>/submit-on-behalf", methods=["POST"])
@login_required(roles=reviewer_roles)
@blp.arguments(OnBehalfSchema)
@blp.response(200, ReviewResultSchema)
def on_behalf(body: dict, record_id: int, actor):
    """代为提交：学生尚无账号时，由可编辑该记录的审核人完成学生的修改环节（流程 on_behalf_roles 允许的角色）"""
    result = submit_on_behalf(actor, checked_id(record_id), current_app.config["GRADFLOW"],
                              expected_version=body.get("version"))
    return result.__dict__
