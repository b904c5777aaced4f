"""Whether a reviewer may 代为提交 a record now: pure rules over the record, its pending tasks and the BPMN.

No writes, and no import of the records service (it imports this module to show the answer).
The rule: the record waits at a submit task whose `on_behalf_roles` names the reviewer's lane,
the student has no account yet (once bound, the student submits), and the reviewer may edit the
record at this level (records.edit_refusal, passed in) — the reviewer who answers for the data.
"""

from __future__ import annotations

from typing import Any

from service.errors import Conflict, GradflowError, PermissionDenied
from service.models import ProcessInstance, Record
from service.services import processes
from service.services.actors import Actor


class StudentHasAccount(Conflict):
    code, default_message = "student_has_account", "该学生已绑定账号，请由学生本人修改并提交"


class NotAwaitingStudent(Conflict):
    code, default_message = "not_awaiting_student", "该记录当前不在学生修改环节，无需代为提交"


class OnBehalfNotAllowed(PermissionDenied):
    code, default_message = "on_behalf_not_allowed", "流程未允许您的角色代学生提交该环节"


def on_behalf_task(inst: ProcessInstance, pending: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[str]]:
    """The pending submit task and the lanes its BPMN lets complete it on the student's behalf."""
    definition = processes.definition(inst.version_id)
    for p in pending:
        task = definition.meta["tasks"].get(p["task"], {})
        if task.get("action") == "submit":
            return p, list(task.get("on_behalf_roles") or [])
    return None, []


def refusal(actor: Actor, rec: Record, inst: ProcessInstance, pending: list[dict[str, Any]],
            edit_refused: GradflowError | None) -> GradflowError | None:
    """Why this reviewer may not 代为提交 now, or None when they may."""
    definition = processes.definition(inst.version_id)
    if actor.role not in definition.reviewer_roles:
        return PermissionDenied("您的角色不能代学生提交", code="wrong_lane")
    if inst.completed:
        return Conflict("审核已完成的记录不能再提交", code="record_completed")
    task, roles = on_behalf_task(inst, pending)
    if task is None:
        return NotAwaitingStudent()
    if actor.role not in roles:
        return OnBehalfNotAllowed()
    if rec.user_id is not None:
        return StudentHasAccount()
    return edit_refused
