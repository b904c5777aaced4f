"""Check a BPMN document the way deploy does, without storing anything (the editor's live check).

The editor asks on every change; the answer is deploy's own refusals (workflow.definitions), so a
file the editor shows without problems is a file deploy accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.errors import Problem, ProcessValidationError
from service.workflow.definitions import parse_process


@dataclass
class CheckOutcome:
    problems: list[Problem] = field(default_factory=list)
    process: dict[str, Any] | None = None  # what gradflow reads from a valid file (roles, levels)

    @property
    def valid(self) -> bool:
        return not self.problems


def check(xml: bytes) -> CheckOutcome:
    try:
        definition = parse_process(xml, "editor.bpmn")
    except ProcessValidationError as exc:
        return CheckOutcome(problems=list(exc.problems))
    meta = definition.meta
    return CheckOutcome(process={
        "process_id": meta["process_id"], "name": meta["name"], "lanes": meta["lanes"],
        "levels": meta["levels"], "submitter_role": meta["submitter_role"], "statuses": meta["statuses"],
    })
