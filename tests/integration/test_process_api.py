"""The editor's API: check a diagram as deploy would, deploy it without activating (issue 12, defect 7).

Refusals used to name generated ids only, mix English and Chinese, and reach the page as one
string. Each now carries the element's id and name with a Chinese reason, as a list, in the API,
the CLI and the upload page.
"""

from __future__ import annotations

import json

import pytest

from service.models import AuditEvent, ProcessVersion
from service.services import processes
from service.services.processes.checks import check
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.support import reviewing
from tests.support.reviewing import login


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _broken_file() -> str:
    """The shipped file after four ordinary editor mistakes."""
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    text = text.replace('<bpmn:lane id="counselor" name="二级用户（辅导员）">', '<bpmn:lane id="Lane_19bv7pb" name="二级用户（辅导员）">')
    text = text.replace("<bpmn:flowNodeRef>review_level2</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>review_level2</bpmn:flowNodeRef>")
    text = text.replace('<spiffworkflow:property name="status" value="中心待审" />', "")
    text = text.replace('<spiffworkflow:property name="status" value="完成" />', "")
    return text


@pytest.fixture()
def world(db):
    world = reviewing.make_world()
    reviewing.user("root", "admin", None)
    reviewing.user("centre", "centre", world.school)
    reviewing.user("c1", "counselor", world.school, colleges=(world.c1,))
    return world


def test_every_refusal_names_its_element_by_id_and_name_in_chinese() -> None:
    outcome = check(_broken_file().encode("utf-8"))
    assert not outcome.valid
    found = {p.element_id: p for p in outcome.problems}
    assert {"Lane_19bv7pb", "review_centre", "end"} <= set(found), outcome.problems
    assert found["Lane_19bv7pb"].element_name == "泳道「二级用户（辅导员）」"
    assert found["review_centre"].element_name == "用户任务「中心审核」"
    assert found["end"].element_name == "结束事件「完成」"
    for p in outcome.problems:
        assert _has_cjk(p.problem), p
        assert not any(word in p.problem for word in ("not allowed", "must be", "has no", "property 'action'")), p


@pytest.mark.parametrize("edit, element_id, words", [
    (lambda t: t.replace('<bpmn:userTask id="review_level2" name="二级审核">',
                         '<bpmn:scriptTask id="review_level2" name="二级审核">').replace(
        "</bpmn:userTask>\n    <bpmn:exclusiveGateway id=\"gw_review_level2\"",
        "</bpmn:scriptTask>\n    <bpmn:exclusiveGateway id=\"gw_review_level2\""), "review_level2", "不执行任何代码"),
    (lambda t: t.replace('value="review" />', 'value="approve" />', 1), "review_level2", "动作"),
    (lambda t: t.replace("<bpmn:flowNodeRef>review_level2</bpmn:flowNodeRef>", ""), "review_level2", "不在任何泳道"),
    (lambda t: t.replace("<bpmn:flowNodeRef>start</bpmn:flowNodeRef>", "").replace(
        '<bpmn:startEvent id="start" name="开始填报">\n      <bpmn:outgoing>flow_start</bpmn:outgoing>\n'
        '    </bpmn:startEvent>', "").replace(
        '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="fill_report" />', "").replace(
        "<bpmn:incoming>flow_start</bpmn:incoming>", ""), "graduate_report", "没有开始事件"),
    (lambda t: t.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="GBK"?>'), "",
     "只接受 UTF-8"),
], ids=["script_task", "bad_action", "task_outside_lanes", "no_start_event", "declared_gbk"])
def test_other_refusals_are_chinese_too(edit, element_id: str, words: str) -> None:
    outcome = check(edit(DEFAULT_BPMN.read_text(encoding="utf-8")).encode("utf-8"))
    assert any(p.element_id == element_id and words in p.problem for p in outcome.problems), outcome.problems
    for p in outcome.problems:
        assert _has_cjk(p.problem), p


def test_validate_answers_the_problem_list_and_what_a_valid_file_means(app, world) -> None:
    admin = login(app, "root", None)
    bad = admin.post("/api/v1/processes/validate", json={"bpmn": _broken_file()})
    assert bad.status_code == 200
    body = bad.get_json()
    assert body["valid"] is False and body["process"] is None
    lane = next(p for p in body["problems"] if p["element_id"] == "Lane_19bv7pb")
    assert lane["element_name"] == "泳道「二级用户（辅导员）」" and "自动生成" in lane["problem"]
    assert all(set(p) == {"element_id", "element_name", "problem"} for p in body["problems"])

    good = admin.post("/api/v1/processes/validate", json={"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8")})
    body = good.get_json()
    assert body["valid"] is True and body["problems"] == []
    assert [lv["role"] for lv in body["process"]["levels"]] == ["counselor", "level1", "centre"]
    assert ProcessVersion.select().count() == 1  # checking stores nothing


def test_deploy_through_the_api_never_activates_and_refuses_with_the_list(app, world) -> None:
    admin = login(app, "root", None)
    before = processes.active_version().id
    refused = admin.post("/api/v1/processes", json={"bpmn": _broken_file(), "source_name": "../../evil.bpmn"})
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "invalid_process"
    assert any(p["element_id"] == "review_centre" for p in refused.get_json()["details"])
    assert ProcessVersion.select().count() == 1

    created = admin.post("/api/v1/processes", json={"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8"),
                                                   "source_name": "../三级.bpmn"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["created"] is True and body["active"] is False and body["review_url"].startswith("/centre/processes/")
    version = ProcessVersion.get_by_id(body["id"])
    assert "/" not in version.source_name and version.deployed_by == "root"
    assert processes.active_version().id == before
    assert AuditEvent.select().where((AuditEvent.action == "deploy") & (AuditEvent.actor == "root")).count() == 1

    again = admin.post("/api/v1/processes", json={"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8")})
    assert again.status_code == 200 and again.get_json() | {"created": True} == body | {"created": True}
    assert again.get_json()["created"] is False


@pytest.mark.parametrize("who", ["centre", "c1", None])
def test_only_the_admin_reaches_the_process_api(app, world, who: str | None) -> None:
    caller = login(app, who, "10561")
    for url in ("/api/v1/processes/validate", "/api/v1/processes"):
        r = caller.post(url, json={"bpmn": DEFAULT_BPMN.read_text(encoding="utf-8")})
        assert r.status_code == (401 if who is None else 404), (who, url, r.get_json())
    assert ProcessVersion.select().count() == 1


def test_the_process_api_needs_the_csrf_header(app, world) -> None:
    admin = login(app, "root", None)
    r = admin.client.post("/api/v1/processes", json={"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8")})
    assert r.status_code in (400, 403)
    assert ProcessVersion.select().count() == 1


@pytest.mark.parametrize("bpmn", [
    "", "\x00" * 10, "\ud800<bpmn/>", "<a>" * 5000, "x" * (3 * 1024 * 1024),
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
], ids=["empty", "nul", "lone_surrogate", "deep_xml", "huge", "xxe"])
def test_hostile_diagrams_get_a_chinese_4xx(app, world, bpmn: str) -> None:
    admin = login(app, "root", None)
    for url in ("/api/v1/processes/validate", "/api/v1/processes"):
        raw = json.dumps({"bpmn": bpmn})  # ASCII escapes, so a lone surrogate arrives as \\ud800
        r = admin.client.post(url, data=raw, content_type="application/json", headers={"X-CSRF-Token": admin.csrf})
        assert 400 <= r.status_code < 500 or (url.endswith("validate") and r.get_json()["valid"] is False), r
        text = r.get_data(as_text=True)
        assert "Traceback" not in text
        body = r.get_json()
        message = body.get("message") or body["problems"][0]["problem"]
        assert _has_cjk(message), body
    assert ProcessVersion.select().count() == 1


def test_wrong_json_shapes_are_refused(app, world) -> None:
    admin = login(app, "root", None)
    for body in ({}, {"bpmn": 5}, {"bpmn": ["x"]}, [], {"bpmn": {"a": {"b": {}}}}, {"bpmn": "x", "source_name": "y" * 999}):
        r = admin.post("/api/v1/processes/validate", json=body)
        assert r.status_code == 422, (body, r.get_json())


def test_the_upload_page_lists_each_problem(app, world) -> None:
    client, token = reviewing.page_login(app, "root", None)
    from io import BytesIO
    r = client.post("/centre/processes/deploy", data={"csrf_token": token,
                                                      "file": (BytesIO(_broken_file().encode("utf-8")), "edit.bpmn")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    items = page.split('<ol class="problems">', 1)[1].split("</ol>", 1)[0].count("<li>")
    assert items >= 3
    assert "泳道「二级用户（辅导员）」（Lane_19bv7pb）" in page and "用户任务「中心审核」（review_centre）" in page
    assert ProcessVersion.select().count() == 1


def test_a_new_gateway_whose_flows_have_no_condition_is_refused_in_chinese() -> None:
    """What a designer has right after drawing a gateway and its two flows in the editor."""
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    for decision in ("reject", "approve"):
        condition = ('\n      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                     f'decision == &quot;{decision}&quot;</bpmn:conditionExpression>\n    ')
        flow_start = text.index(f'<bpmn:sequenceFlow id="flow_gw_review_level2_{decision}"')
        at = text.index(condition, flow_start)
        text = text[:at] + text[at + len(condition):]
    outcome = check(text.encode("utf-8"))
    assert outcome.problems, "a gateway flow without a condition must be refused"
    for p in outcome.problems:
        assert "Non-default" not in p.problem and _has_cjk(p.problem), p
    assert any("没有条件" in p.problem and p.element_id.startswith("flow_gw_review_level2") for p in outcome.problems), \
        outcome.problems
