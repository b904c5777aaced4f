"""What each status label means to the province, read from the BPMN metadata of every deployed version.

A label is "draft" (the first submit task: never submitted), "pending" (a review task), "rejected"
(a later submit task: sent back to the student, 不同意) or "done" (an end event, 完成). Records
keep their version's labels after a new version is activated, so every version counts, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.models import ProcessVersion

DRAFT, PENDING, REJECTED, DONE = "draft", "pending", "rejected", "done"


@dataclass
class StatusKinds:
    kinds: dict[str, str] = field(default_factory=dict)
    metas: dict[int, dict[str, Any]] = field(default_factory=dict)  # version id → its metadata

    def of(self, status: str) -> str:
        return self.kinds.get(status, "")

    def with_kind(self, kind: str) -> list[str]:
        return [s for s, k in self.kinds.items() if k == kind]

    def levels(self, version_id: int | None) -> list[dict[str, Any]]:
        """The review levels (role, level, status) of a version, in flow order."""
        meta = self.metas.get(version_id) if version_id is not None else None
        return list(meta.get("levels", [])) if meta else []


def status_kinds() -> StatusKinds:
    """One query over the versions' metadata (the stored meta, never the large spec or XML)."""
    found = StatusKinds()
    rows = ProcessVersion.select(ProcessVersion.id, ProcessVersion.meta).order_by(ProcessVersion.id.desc()).tuples()
    for version_id, meta in rows:
        found.metas[version_id] = meta
        for status, kind in _kinds(meta):
            found.kinds.setdefault(status, kind)
    return found


def _kinds(meta: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for task in meta.get("tasks", {}).values():
        if task.get("action") == "review":
            out.append((task["status"], PENDING))
        elif task.get("status") == meta.get("initial_status"):
            out.append((task["status"], DRAFT))
        else:
            out.append((task["status"], REJECTED))
    out.extend((end["status"], DONE) for end in meta.get("ends", {}).values())
    return out
