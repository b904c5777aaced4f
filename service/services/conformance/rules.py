"""What a process version allows, found by running its BPMN in the engine, not by reading Python.

Every configuration the diagram can reach is explored once: from the start, each READY human task
is completed with every kind of data its action can hand on (workflow.variables.samples), and the
status the engine stops at is recorded. A replayed history is then checked against that table, so
a gateway's real conditions (whatever the diagram says about approve / reject) decide what is
allowed. A version is explored once per process and kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from service.workflow import engine
from service.workflow.definitions import ProcessDefinition
from service.workflow.variables import samples

ADD_ACTION = "add"  # the audit action of a reviewer's 新增 (services.records.add_record)
MAX_CONFIGURATIONS = 500  # a review chain has a handful; a diagram that explodes is not explored further


@dataclass
class ProcessRules:
    """The transitions one version allows: (task, decision) → statuses the engine may stop at."""

    sha256: str
    initial_status: str
    statuses: frozenset[str]
    end_statuses: frozenset[str]
    task_status: dict[str, str]
    task_role: dict[str, str]
    task_title: dict[str, str]
    on_behalf_roles: dict[str, frozenset[str]]
    task_action: dict[str, str]
    reviewer_roles: frozenset[str]
    transitions: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    complete: bool = True  # False when exploration stopped at MAX_CONFIGURATIONS

    def allowed_after(self, task: str, decision: str) -> set[str]:
        return self.transitions.get((task, decision), set())

    def may_take(self, task: str, role: str, action: str) -> bool:
        """The task's lane takes it; its on-behalf roles may submit for a student (代为提交), and a
        reviewer who adds a record submits it as it is created (action "add", records.add_record)."""
        if role == self.task_role[task] or role in self.on_behalf_roles[task]:
            return True
        return action == ADD_ACTION and self.task_action[task] == "submit" and role in self.reviewer_roles


def derive(definition: ProcessDefinition) -> ProcessRules:
    """Explore every configuration reachable from the start (breadth first, bounded)."""
    meta = definition.meta
    tasks = meta["tasks"]
    rules = ProcessRules(
        sha256=definition.sha256,
        initial_status=meta["initial_status"],
        statuses=frozenset([*(t["status"] for t in tasks.values()), *(e["status"] for e in meta["ends"].values())]),
        end_statuses=frozenset(e["status"] for e in meta["ends"].values()),
        task_status={name: t["status"] for name, t in tasks.items()},
        task_role={name: t["role"] for name, t in tasks.items()},
        task_title={name: t["title"] for name, t in tasks.items()},
        on_behalf_roles={name: frozenset(t.get("on_behalf_roles") or ()) for name, t in tasks.items()},
        task_action={name: t["action"] for name, t in tasks.items()},
        reviewer_roles=frozenset(level["role"] for level in meta["levels"]),
    )
    start = engine.start(definition)
    queue = [engine.dump(definition, start)]
    seen = {_configuration(definition, start)}
    while queue:
        state = queue.pop(0)
        for step in engine.pending(definition, engine.load(definition, state)):
            for data in samples(step.action):
                workflow = engine.load(definition, state)
                try:
                    engine.complete(definition, workflow, step.task_id, dict(data))
                except engine.EvaluationFailed:
                    continue  # a condition that fails at run time: that path cannot be taken
                after = engine.snapshot(definition, workflow).status
                rules.transitions.setdefault((step.task_name, str(data.get("decision", ""))), set()).add(after)
                key = _configuration(definition, workflow)
                if key in seen:
                    continue
                if len(seen) >= MAX_CONFIGURATIONS:
                    rules.complete = False
                    continue
                seen.add(key)
                queue.append(engine.dump(definition, workflow))
    return rules


def _configuration(definition: ProcessDefinition, workflow: object) -> tuple[frozenset[str], bool]:
    """Where an instance stands: its READY human tasks (by name) and whether it ended."""
    steps = engine.pending(definition, workflow)  # type: ignore[arg-type]
    return frozenset(s.task_name for s in steps), bool(getattr(workflow, "completed", False))


_cache: dict[str, ProcessRules] = {}
_lock = threading.Lock()


def rules_for(definition: ProcessDefinition) -> ProcessRules:
    found = _cache.get(definition.sha256)
    if found is None:
        with _lock:
            found = _cache.get(definition.sha256)
            if found is None:
                found = _cache[definition.sha256] = derive(definition)
    return found
