"""Process versions for the editor: check a diagram as deploy would, and deploy it (never activating).

Only the admin deploys (DESIGN.md §1: a version can serve every school); to anyone else these
endpoints do not exist (404). Activation is a separate, confirmed step on the review page.
"""

from __future__ import annotations

import re
from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.security import login_required
from service.errors import NotFound
from service.services import processes
from service.services.actors import Actor
from service.services.processes.checks import check
from service.workflow.definitions import MAX_BPMN_BYTES

blp = Blueprint("processes", __name__, url_prefix="/api/v1/processes", description="流程版本（管理员）")

_UNSAFE_NAME = re.compile(r"[^\w.\-（）()\u4e00-\u9fff]+")


class BpmnInSchema(Schema):
    bpmn = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BPMN_BYTES),
                         metadata={"description": "BPMN 2.0 XML 文本（UTF-8）"})
    source_name = fields.String(load_default="editor.bpmn", validate=validate.Length(max=200),
                                metadata={"description": "文件名，仅用于显示"})


class ProblemSchema(Schema):
    element_id = fields.String(metadata={"description": "元素 id；空表示整个文件"})
    element_name = fields.String(metadata={"description": "元素名称，如 网关「审核结果」"})
    problem = fields.String(metadata={"description": "问题说明（中文）"})


class CheckOutSchema(Schema):
    valid = fields.Boolean()
    problems = fields.List(fields.Nested(ProblemSchema))
    process = fields.Dict(allow_none=True, metadata={"description": "有效时：流程标识、名称、泳道（角色）、审核层级"})


class DeployOutSchema(Schema):
    id = fields.Integer()
    created = fields.Boolean(metadata={"description": "false：内容相同的版本已存在，未新建"})
    active = fields.Boolean()
    review_url = fields.String()


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotFound()


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@blp.route("/validate", methods=["POST"])
@login_required()
@blp.arguments(BpmnInSchema)
@blp.response(200, CheckOutSchema)
def validate_process(body: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """按部署规则校验流程图（不保存）：返回问题列表，每条带元素 id、名称与中文说明。"""
    _admin_only(actor)
    outcome = check(_bytes(body["bpmn"]))
    return {"valid": outcome.valid, "problems": [p.as_dict() for p in outcome.problems], "process": outcome.process}


@blp.route("", methods=["POST"])
@login_required()
@blp.arguments(BpmnInSchema)
@blp.response(201, DeployOutSchema)
@blp.alt_response(200, schema=DeployOutSchema, description="内容相同的版本已存在")
def deploy_process(body: dict[str, Any], actor: Actor) -> tuple[dict[str, Any], int]:
    """部署新版本（不启用）：校验未通过时 422，details 为问题列表。"""
    _admin_only(actor)
    name = _UNSAFE_NAME.sub("_", body["source_name"]).strip("._") or "editor.bpmn"
    result = processes.deploy(_bytes(body["bpmn"]), name, actor=actor, activate=False)
    version = result.version
    out = {"id": version.id, "created": result.created, "active": bool(version.active),
           "review_url": url_for("web_process_review.process_review", version_id=version.id)}
    return out, 201 if result.created else 200
