"""Issue 14, conformance: what a history may do comes from running the BPMN, so swapping the
diagram changes the verdict on the same history (no status or task is named in the product code)."""

from __future__ import annotations

from service.services.conformance.replay import Event, Stored, check_record
from service.services.conformance.rules import derive
from service.workflow import engine
from service.workflow.definitions import parse_process
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN

TWO = parse_process(DEFAULT_BPMN.read_bytes(), DEFAULT_BPMN.name)
THREE = parse_process(THREE_LEVEL_BPMN.read_bytes(), THREE_LEVEL_BPMN.name)


def test_the_default_diagram_allows_exactly_its_transitions():
    rules = derive(TWO)
    assert rules.complete and rules.initial_status == "未提交"
    assert rules.transitions == {
        ("fill_report", ""): {"二级待审"},
        ("review_level2", "approve"): {"中心待审"},
        ("review_level2", "reject"): {"不同意"},
        ("review_centre", "approve"): {"完成"},
        ("review_centre", "reject"): {"不同意"},
        ("revise_report", ""): {"二级待审"},
    }


def test_the_three_level_diagram_puts_a_level_between_counselor_and_centre():
    rules = derive(THREE)
    assert rules.allowed_after("review_level2", "approve") == {"一级待审"}
    assert rules.allowed_after("review_level1", "approve") == {"中心待审"}
    assert rules.task_role["review_level1"] not in (rules.task_role["review_level2"], rules.task_role["review_centre"])


def _history(definition, decisions):
    """Events and the stored state of one instance run by the real engine with these decisions."""
    wf = engine.start(definition)
    status = engine.snapshot(definition, wf).status
    events = [Event(1, 1, "create", "", "", "system", "", status, definition.sha256)]
    for decision in decisions:
        step = engine.pending(definition, wf)[0]
        engine.complete(definition, wf, step.task_id, {"decision": decision, "comment": "x"} if decision else {})
        after = engine.snapshot(definition, wf).status
        events.append(Event(len(events) + 1, len(events) + 1, step.action, step.task_name, decision or "",
                            step.role, status, after, definition.sha256))
        status = after
    snap = engine.snapshot(definition, wf)
    stored = Stored(1, "10561", snap.status, 1, snap.status, snap.completed, definition.sha256,
                    engine.dump(definition, wf), [(p.task_name, p.status) for p in snap.pending])
    return stored, events


def test_the_same_history_conforms_on_its_diagram_and_not_on_the_other():
    stored, events = _history(TWO, [None, "approve", "approve"])
    by_sha = {TWO.sha256: derive(TWO)}
    assert check_record(stored, events, by_sha.get) == []
    # The same events claimed for the three-level diagram: the counselor's approval may not lead
    # to 中心待审 there, and the engine state does not belong to that diagram's tasks.
    three = derive(THREE)
    claimed = [e._replace(process_version=THREE.sha256) for e in events]
    kinds = {f.kind for f in check_record(stored._replace(version_sha=THREE.sha256), claimed,
                                          {THREE.sha256: three}.get)}
    assert "forbidden" in kinds


def test_a_rejection_and_resubmission_conform_and_an_unknown_version_is_named():
    stored, events = _history(THREE, [None, "approve", "reject", None, "approve", "approve", "approve"])
    assert stored.completed
    assert check_record(stored, events, {THREE.sha256: derive(THREE)}.get) == []
    assert {f.kind for f in check_record(stored, events, {}.get)} == {"unknown_version"}
