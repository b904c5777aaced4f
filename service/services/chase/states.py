"""The chase states, read from the process definitions: nothing here names a status label.

- 未绑定 (UNBOUND): an eligible roster student of the graduation year with no record. Binding is
  what creates a student's record, so "no record" is "never bound" — the same rule the progress
  dashboard counts. (A record a reviewer added without a student account is chased by its status.)
- waiting for the student: the status of the process's first submit task (its initial status,
  未提交 in the default BPMN) and of every other submit task (reached after a rejection: 不同意).
- pending at a review level: the status of every review task (二级待审, 一级待审, 中心待审 …).
The end event's status (完成) is not a chase state.

Every deployed version is read, newest first, because instances stay on the version they started on.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.models import ProcessVersion

UNBOUND = "未绑定"  # not a process status: a roster student without a record (see the module docstring)
KIND_UNBOUND, KIND_DRAFT, KIND_REJECTED, KIND_PENDING = "unbound", "draft", "rejected", "pending"


@dataclass(frozen=True)
class ChaseState:
    label: str  # what the API's state= takes and what people read
    kind: str  # unbound | draft | rejected | pending
    level: str = ""  # the review level (二级 …) for pending states

    @property
    def waits_for_student(self) -> bool:
        return self.kind in (KIND_UNBOUND, KIND_DRAFT, KIND_REJECTED)


def chase_states() -> list[ChaseState]:
    """未绑定, then the draft, rejected and review statuses of every deployed version, in flow order."""
    draft: list[ChaseState] = []
    rejected: list[ChaseState] = []
    pending: list[ChaseState] = []
    seen = {UNBOUND}
    for (meta,) in ProcessVersion.select(ProcessVersion.meta).order_by(ProcessVersion.id.desc()).tuples():
        initial = meta.get("initial_status", "")
        for task in meta.get("tasks", {}).values():
            label = task.get("status", "")
            if not label or label in seen:
                continue
            if task.get("action") == "submit":
                (draft if label == initial else rejected).append(
                    ChaseState(label, KIND_DRAFT if label == initial else KIND_REJECTED))
            elif task.get("action") == "review":
                pending.append(ChaseState(label, KIND_PENDING, task.get("level") or task.get("title", "")))
            else:
                continue
            seen.add(label)
    return [ChaseState(UNBOUND, KIND_UNBOUND), *draft, *rejected, *pending]


def by_label() -> dict[str, ChaseState]:
    return {s.label: s for s in chase_states()}
