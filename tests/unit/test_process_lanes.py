"""Lanes are roles (issue 12, defects 1–3): a lane's id is its role key and its name is shown.

Each hostile file is a shipped BPMN with one string replaced, as a designer's edit would leave it:
a lane without a name (its tasks used to get the role ""), two lanes with one name (one role did
two levels), an editor-generated id as the role key. Deploy now refuses each, naming the lane in Chinese.
"""

from __future__ import annotations

import pytest

from service.errors import ProcessValidationError
from service.workflow.definitions import parse_process
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN

COUNSELOR_NAME = 'name="二级用户（辅导员）"'


def _refused(xml: str) -> list[dict[str, str]]:
    with pytest.raises(ProcessValidationError) as caught:
        parse_process(xml.encode("utf-8"))
    return caught.value.details


def test_a_lane_without_a_name_is_refused() -> None:
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    assert COUNSELOR_NAME in text
    problems = _refused(text.replace(" " + COUNSELOR_NAME, "", 1))
    assert any(p["element_id"] == "counselor" and "没有名称" in p["problem"] for p in problems), problems


def test_two_lanes_with_one_name_are_refused() -> None:
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    duplicated = text.replace('name="中心（就业指导中心）"', COUNSELOR_NAME, 1)
    problems = _refused(duplicated)
    assert any(p["element_id"] == "centre" and "同名" in p["problem"] and "counselor" in p["problem"]
               for p in problems), problems


def test_an_editor_generated_lane_id_is_refused_naming_the_lane() -> None:
    text = DEFAULT_BPMN.read_text(encoding="utf-8").replace('"counselor"', '"Lane_19bv7pb"')
    problems = _refused(text)
    assert any(p["element_id"] == "Lane_19bv7pb" and "二级用户（辅导员）" in p["problem"] and "自动生成" in p["problem"]
               for p in problems), problems


@pytest.mark.parametrize("source", [DEFAULT_BPMN, THREE_LEVEL_BPMN], ids=["default", "three_level"])
def test_shipped_files_keep_their_roles_read_from_the_lane_a_task_sits_in(source) -> None:
    definition = parse_process(source.read_bytes())
    roles = {name: t["role"] for name, t in definition.meta["tasks"].items()}
    assert roles["fill_report"] == roles["revise_report"] == "student"
    assert roles["review_level2"] == "counselor" and roles["review_centre"] == "centre"
    assert all(roles.values())
