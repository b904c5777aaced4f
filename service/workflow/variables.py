"""The task data a gateway condition can see: the one place that says which variables exist.

A human step puts data on its task before the engine runs on (service.services.transitions):
a review task gets `decision` (approve / reject) and `comment` (required when rejecting); a submit
task gets nothing. Both keys are cleared after every step (engine.ROUND_KEYS), so a gateway sees
only what the human task right before it put there. Deployment checks every condition against
these names and evaluates every gateway for every sample below (definitions._check_gateways).
"""

from __future__ import annotations

from typing import Any

DECISIONS = ("approve", "reject")
"""What a reviewer can decide; a rejection needs a comment."""

ACTION_DATA: dict[str, tuple[str, ...]] = {
    "review": ("decision", "comment"),
    "submit": (),
}
"""Task-data keys each kind of human task (the `action` property in the BPMN) sets."""

ROUND_KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for keys in ACTION_DATA.values() for k in keys))
"""Every key a human step sets: removed before the next round so a decision never leaks."""

PROCESS_VARIABLES = frozenset(ROUND_KEYS)
"""The names a condition may use (besides True / False / None)."""


def samples(action: str) -> list[dict[str, Any]]:
    """Every kind of task data a human task with this action can hand to the next gateway."""
    if action == "review":
        return [
            {"decision": "approve", "comment": ""},
            {"decision": "approve", "comment": "同意"},
            {"decision": "reject", "comment": "请补充材料"},
        ]
    return [{}]
