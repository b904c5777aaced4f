"""Edits belong to the level the record is waiting at (both shipped processes, levels read from the BPMN).

The attack: a counselor edited a record it had already approved (now waiting at 中心), and the
centre edited a record still at 二级待审, under the reviewer about to decide on it. Now only the
lane the record waits at may edit (409 for the others, nothing written); 不同意 is editable by
every reviewer in scope; 完成 by nobody.
"""

from __future__ import annotations

import pytest

from service.models import AuditEvent, ProcessInstance, Record
from service.services import processes
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.support import reviewing as rv

BOTH_PROCESSES = pytest.mark.parametrize("process_file", [DEFAULT_BPMN, THREE_LEVEL_BPMN],
                                         ids=["default", "three_level"])


def _edit(api: rv.Api, rec: Record, remark: str):
    return api.patch(f"/api/v1/records/{rec.id}", json={"data": {"other": {"remark": remark}}})


def _edits(rec: Record) -> int:
    return AuditEvent.select().where((AuditEvent.record == rec.id) & (AuditEvent.action == "edit")).count()


@BOTH_PROCESSES
def test_only_the_level_the_record_waits_at_may_edit(app, db) -> None:
    world = rv.make_world()
    _, definition = processes.active_definition()
    levels = definition.meta["levels"]  # in flow order: 二级 (→ 一级) → 中心
    roles = [lv["role"] for lv in levels]
    for role in roles:
        rv.user(role, role, world.school)
    apis = {role: rv.login(app, role) for role in roles}
    rec = rv.submitted(world, world.m1)
    for i, level in enumerate(levels):
        assert ProcessInstance.get(ProcessInstance.record == rec.id).status == level["status"]
        for other in roles:
            if other == level["role"]:
                continue
            before = (_edits(rec), Record.get_by_id(rec.id).data)
            r = _edit(apis[other], rec, f"{other} 越级修改")
            assert r.status_code == 409, (level["status"], other, r.get_json())
            body = r.get_json()
            assert body["code"] == "not_pending_at_your_level" and "不在您的审核环节" in body["message"]
            assert (_edits(rec), Record.get_by_id(rec.id).data) == before  # nothing written
            view = apis[other].get(f"/api/v1/records/{rec.id}").get_json()
            assert view["editable"] is False and view["edit_refused"]
        r = _edit(apis[level["role"]], rec, f"{level['level']} 核对")
        assert r.status_code == 200, (level["status"], r.get_json())
        assert r.get_json()["record"]["editable"] is True
        rv.approve(rec, level["role"])
        if i == 0:
            assert _edit(apis[level["role"]], rec, "已通过后再改").status_code == 409  # the counselor case
    # 完成: nobody edits any more
    for role in roles:
        r = _edit(apis[role], rec, "完成后修改")
        assert r.status_code == 409 and r.get_json()["code"] == "record_completed"


@BOTH_PROCESSES
def test_every_level_in_scope_may_edit_a_rejected_record(app, db) -> None:
    world = rv.make_world()
    _, definition = processes.active_definition()
    roles = definition.reviewer_roles
    for role in roles:
        rv.user(role, role, world.school)
    rec = rv.submitted(world, world.m1)
    for role in roles[:-1]:
        rv.approve(rec, role)
    rv.reject(rec, roles[-1], "请核对家庭地址")  # the last level sends it back to the student
    for role in roles:
        r = _edit(rv.login(app, role), rec, f"{role} 退回后修改")
        assert r.status_code == 200, (role, r.get_json())
    # out of scope it stays a 404 (a counselor of another college)
    rv.user("other_college", roles[0], world.school, colleges=(world.c2,))
    assert _edit(rv.login(app, "other_college"), rec, "x").status_code == 404
