"""The student side: identity check, binding to the roster, and the three-section report."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.security import csrf_token, login_required, login_user
from service.errors import InvalidInput
from service.services import binding, identity, processes, student_report
from service.services.accounts import recovery
from service.services.actors import Actor

blp = Blueprint("student", __name__, url_prefix="/api/v1/student", description="Students: binding and report")


def _settings():
    return current_app.config["GRADFLOW"]


def _submitter_roles(actor: Actor | None = None) -> list[str]:
    return [processes.active_definition(actor.school_code if actor else None)[1].submitter_role]


class VerifySchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))


class BindSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(["mainland", "hmt"]))
    school_code = fields.String(required=True, validate=validate.Length(min=1, max=10))
    student_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id_type = fields.String(required=True, validate=validate.Length(min=1, max=4))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))
    verification_token = fields.String(load_default="", validate=validate.Length(max=512))


class RecoverSchema(BindSchema):
    """忘记密码: the same proof as binding, and the new password."""


class SubmitSchema(Schema):
    lock_version = fields.Integer(load_default=None)


def _expected_version() -> int | None:
    """Optional optimistic lock: If-Match: <lock_version>."""
    raw = (request.headers.get("If-Match") or "").strip().strip('"')
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput("If-Match 应为记录的 lock_version", details={"If-Match": ["应为整数"]})
    return int(raw)


@blp.route("/verify-identity", methods=["POST"])
@blp.arguments(VerifySchema)
@blp.doc(security=[])
def verify_identity(body: dict) -> dict[str, Any]:
    settings = _settings()
    token = identity.verify_identity(body["name"], body["id_number"], settings, client=request.remote_addr)
    return {"verification_token": token, "expires_in": settings.identity_token_seconds}


@blp.route("/bind", methods=["POST"])
@blp.arguments(BindSchema)
@blp.doc(security=[])
def bind(body: dict) -> tuple[dict[str, Any], int]:
    user = binding.bind(binding.BindRequest(**body, client=request.remote_addr), _settings())
    login_user(user)
    return {"username": user.username, "role": user.role, "school_code": user.school_id,
            "csrf_token": csrf_token()}, 201


@blp.route("/recover-password", methods=["POST"])
@blp.arguments(RecoverSchema)
@blp.doc(security=[])
def recover_password(body: dict) -> dict[str, Any]:
    """忘记密码: 实名认证 token (mainland) + roster match, then the new password; logs the student in."""
    user = recovery.recover_password(recovery.RecoverRequest(**body, client=request.remote_addr), _settings())
    login_user(user)
    return {"username": user.username, "role": user.role, "school_code": user.school_id, "csrf_token": csrf_token()}


@blp.route("/report")
@login_required(_submitter_roles)
def get_report(actor: Actor) -> dict[str, Any]:
    return student_report.get_report(actor, _settings())


@blp.route("/report/<string:section>", methods=["PUT"])
@login_required(_submitter_roles)
def save_section(section: str, actor: Actor) -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if payload is None:
        raise InvalidInput("请求体应为 JSON 对象", details={section: ["应为对象"]})
    return student_report.save_section(actor, section, payload, expected_version=_expected_version(),
                                       settings=_settings())


@blp.route("/report/submit", methods=["POST"])
@login_required(_submitter_roles)
def submit(actor: Actor) -> dict[str, Any]:
    result = student_report.submit(actor, _settings(), expected_version=_expected_version())
    return {"review_status": result.status_after, "report_status": result.report_status,
            "lock_version": result.lock_version}
