"""The semantic and element diffs the review page shows, on the shipped files and on a lane move."""

from __future__ import annotations

from service.services.processes.compare import confirmations_needed, element_diff, semantic_diff
from service.workflow.definitions import parse_process
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.support.bpmn_edits import centre_task_into_level1


def _meta(xml: bytes) -> dict:
    return parse_process(xml).meta


def test_two_level_to_three_level_names_the_new_role_and_level_order() -> None:
    changes = semantic_diff(_meta(DEFAULT_BPMN.read_bytes()), _meta(THREE_LEVEL_BPMN.read_bytes()))
    by_kind = {c.kind: c for c in changes}
    assert by_kind["role_added"].data["role"] == "level1"
    assert "一级用户（学院）" in by_kind["role_added"].sentence
    assert by_kind["level_order"].data == {"old": ["二级", "中心"], "new": ["二级", "一级", "中心"]}
    assert "二级 → 一级 → 中心" in by_kind["level_order"].sentence
    assert by_kind["level_added"].data["role"] == "level1"
    assert "一级待审" in by_kind["status_added"].sentence
    assert "on_behalf_changed" in by_kind
    # the last role stays 中心 and no existing role reviews another level; only the new order
    # (中心 becomes the third of three) is confirmed, naming it
    assert "last_role_changed" not in by_kind and "role_levels_changed" not in by_kind
    assert confirmations_needed(changes) == [by_kind["level_order"]]
    assert by_kind["level_order"].key == "level_order:二级+一级+中心"


def test_same_file_has_no_changes() -> None:
    xml = THREE_LEVEL_BPMN.read_bytes()
    assert semantic_diff(_meta(xml), _meta(xml)) == []
    diff = element_diff(xml, xml)
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_lane_move_that_makes_another_role_last_needs_confirmation() -> None:
    old = THREE_LEVEL_BPMN.read_bytes()
    new = centre_task_into_level1(old)
    changes = semantic_diff(_meta(old), _meta(new))
    needed = {c.kind: c for c in confirmations_needed(changes)}
    last = needed["last_role_changed"]
    assert last.data == {"old": "centre", "new": "level1"}
    assert last.sentence.startswith("中心（就业指导中心） 不再是最后一级，一级用户（学院） 将能看到完整证件号码")
    levels = {c.data["role"]: c for c in changes if c.kind == "role_levels_changed"}
    assert levels["level1"].data == {"role": "level1", "old": ["一级"], "new": ["一级", "中心"]}
    assert levels["centre"].data["new"] == [] and "不再审核任何层级" in levels["centre"].sentence
    level_role = next(c for c in changes if c.kind == "level_role_changed")
    assert level_role.data == {"level": "中心", "old": "centre", "new": "level1"}


def test_element_diff_colours_the_moved_task_and_both_lanes() -> None:
    old = THREE_LEVEL_BPMN.read_bytes()
    diff = element_diff(old, centre_task_into_level1(old))
    assert diff.added == [] and diff.removed == []
    assert {"review_centre", "gw_review_centre", "level1", "centre", "revise_report"} == set(diff.changed)


def test_element_diff_two_to_three_levels() -> None:
    diff = element_diff(DEFAULT_BPMN.read_bytes(), THREE_LEVEL_BPMN.read_bytes())
    assert {"review_level1", "gw_review_level1", "level1"} <= set(diff.added)
    assert "review_level2" not in diff.changed  # same task, same lane, same properties
    assert "flow_gw_review_level2_approve" in diff.changed  # now leads to 一级, not 中心


def test_moving_a_shape_only_is_no_change() -> None:
    old = THREE_LEVEL_BPMN.read_bytes()
    text = old.decode("utf-8")
    start = text.index('<dc:Bounds x="', text.index('bpmnElement="review_centre"'))
    moved = (text[:start] + '<dc:Bounds x="9' + text[start + len('<dc:Bounds x="'):]).encode("utf-8")
    assert moved != old
    diff = element_diff(old, moved)
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_element_diff_leaves_out_the_pool_and_process() -> None:
    diff = element_diff(DEFAULT_BPMN.read_bytes(), THREE_LEVEL_BPMN.read_bytes())
    every = {*diff.added, *diff.removed, *diff.changed}
    assert not {"graduate_report", "graduate_report_three_level", "Participant_graduate_report"} & every


def test_a_renamed_status_label_is_named_per_task_and_end() -> None:
    old = THREE_LEVEL_BPMN.read_bytes()
    text = old.decode("utf-8").replace('value="完成"', 'value="已完成"').replace('value="一级待审"', 'value="学院待审"')
    new = text.encode()
    changes = {c.kind: c for c in semantic_diff(_meta(old), _meta(new))}
    assert changes["status_changed"].sentence == "环节「一级审核」（review_level1）的状态由「一级待审」改为「学院待审」"
    assert changes["end_status_changed"].data == {"end": "end", "old": "完成", "new": "已完成"}
    assert "新增审核状态「已完成」" in [c.sentence for c in semantic_diff(_meta(old), _meta(new))]
    assert confirmations_needed(list(changes.values())) == []
