"""Who may 代为提交 is the BPMN's answer: a copy of the shipped file without `on_behalf_roles` removes it,
and deployment refuses the property where it names no reviewer lane."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import ProcessValidationError
from service.models import ProcessInstance, Record
from service.workflow.definitions import parse_process
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.integration.test_on_behalf import added_record
from tests.support import reviewing as rv

PROPERTY_LINE = '<spiffworkflow:property name="on_behalf_roles" value="counselor centre" />'


def without_property(source: Path) -> bytes:
    xml = source.read_bytes()
    assert PROPERTY_LINE.encode() in xml  # the shipped file has it: the copy below differs only there
    return xml.replace(PROPERTY_LINE.encode(), b"")


@pytest.fixture
def process_file(tmp_path: Path) -> Path:
    """This module's records start on a copy of the shipped BPMN without the property."""
    copy = tmp_path / "graduate_report_no_on_behalf.bpmn"
    copy.write_bytes(without_property(DEFAULT_BPMN))
    return copy


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.user("counselor1", "counselor", w.school, colleges=(w.c1,))
    rv.user("centre", "centre", w.school)
    return w


def test_without_the_property_nobody_may_submit_on_behalf(app, world) -> None:
    _, added = added_record(app, world)
    counselor = rv.login(app, "counselor1")
    assert counselor.post(f"/api/v1/records/{added['id']}/review",
                          json={"decision": "reject", "comment": "请核对"}).status_code == 200
    view = counselor.get(f"/api/v1/records/{added['id']}").get_json()
    assert view["review_status"] == "不同意" and view["editable"] and not view["submittable_on_behalf"]
    for who in ("counselor1", "centre"):
        r = rv.login(app, who).post(f"/api/v1/records/{added['id']}/submit-on-behalf", json={})
        assert r.status_code == 403 and r.get_json()["code"] == "on_behalf_not_allowed", who
    page = counselor.get(f"/console/records/{added['id']}").get_data(as_text=True)
    assert "代为提交" not in page
    lock = ProcessInstance.get(ProcessInstance.record == added["id"]).lock_version
    posted = counselor.client.post(f"/console/records/{added['id']}/submit-on-behalf", follow_redirects=True,
                                   data={"csrf_token": counselor.csrf, "lock_version": str(lock), "confirm": "1"})
    assert "流程未允许您的角色代学生提交该环节" in posted.get_data(as_text=True)
    assert ProcessInstance.get(ProcessInstance.record == added["id"]).status == "不同意"
    assert Record.get_by_id(added["id"]).submitted_at is not None


def _with_roles(source: Path, roles: str, *, on_task: str = "revise_report") -> bytes:
    xml = source.read_text(encoding="utf-8")
    line = next(ln.strip() for ln in xml.splitlines() if 'name="on_behalf_roles"' in ln)
    xml = xml.replace(line, "")
    start = xml.index(f'<bpmn:userTask id="{on_task}"')
    anchor = xml.index("</spiffworkflow:properties>", start)
    prop = f'<spiffworkflow:property name="on_behalf_roles" value="{roles}" />'
    return (xml[:anchor] + prop + xml[anchor:]).encode("utf-8")


@pytest.mark.parametrize("roles, on_task, message", [
    ("counselor registrar", "revise_report", "泳道不存在：registrar"),
    ("student", "revise_report", "只能是有审核任务的泳道"),
    ("counselor", "review_level2", "只能设在学生提交的任务上"),
])
def test_deploy_refuses_on_behalf_roles_naming_no_reviewer_lane(roles: str, on_task: str, message: str) -> None:
    with pytest.raises(ProcessValidationError) as caught:
        parse_process(_with_roles(DEFAULT_BPMN, roles, on_task=on_task))
    assert any(p.element_id == on_task and message in p.problem for p in caught.value.problems), \
        caught.value.problems


def test_shipped_files_name_their_reviewer_lanes() -> None:
    two = parse_process(DEFAULT_BPMN.read_bytes())
    three = parse_process(THREE_LEVEL_BPMN.read_bytes())
    assert two.task("revise_report")["on_behalf_roles"] == ["counselor", "centre"]
    assert three.task("revise_report")["on_behalf_roles"] == ["counselor", "level1", "centre"]
    assert all(not t["on_behalf_roles"] for n, t in two.meta["tasks"].items() if n != "revise_report")
    # comma separated works too
    assert parse_process(_with_roles(DEFAULT_BPMN, "counselor,centre")).task("revise_report")[
        "on_behalf_roles"] == ["counselor", "centre"]
