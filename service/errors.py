"""Errors the use cases raise; the HTTP layer turns each into JSON {code, message, details}.

Messages are Chinese because users read them; codes are stable English identifiers for clients.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class GradflowError(Exception):
    status = 400
    code = "bad_request"
    default_message = "请求有误"

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details
        if code:
            self.code = code
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class Unauthorized(GradflowError):
    status, code, default_message = 401, "unauthorized", "请先登录"


class PermissionDenied(GradflowError):
    status, code, default_message = 403, "forbidden", "无权进行此操作"


class NotFound(GradflowError):
    status, code, default_message = 404, "not_found", "记录不存在"


class Conflict(GradflowError):
    status, code, default_message = 409, "conflict", "操作冲突，请刷新后重试"


class StaleVersion(Conflict):
    code, default_message = "stale_version", "该记录已被他人处理或修改，请刷新后重试"


class TaskNotReady(Conflict):
    code, default_message = "task_not_ready", "该任务当前不可办理"


class NotPendingAtLevel(Conflict):
    code, default_message = "not_pending_at_your_level", "该记录当前不在您的审核环节"


class InvalidInput(GradflowError):
    status, code, default_message = 422, "invalid", "提交的数据有误"


class Problem(NamedTuple):
    """One reason a BPMN file is refused: the element (id and name, for markers and people) and why."""

    element_id: str
    element_name: str
    problem: str

    def label(self) -> str:
        if not self.element_id:
            return "整个文件"
        return f"{self.element_name}（{self.element_id}）" if self.element_name else self.element_id

    def as_dict(self) -> dict[str, str]:
        return {"element_id": self.element_id, "element_name": self.element_name, "problem": self.problem}


class ProcessValidationError(InvalidInput):
    """A BPMN file that may not be deployed; details = [{"element_id", "element_name", "problem"}]."""

    code, default_message = "invalid_process", "流程文件校验未通过"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        text = "；".join(f"{p.label()}：{p.problem}" for p in problems)
        super().__init__(f"流程文件校验未通过（{len(problems)} 个问题）：{text}",
                         details=[p.as_dict() for p in problems])
