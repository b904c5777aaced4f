"""Authorization matrix: every role × every reviewer endpoint × a record in scope and one out of scope.

"In scope" is a record of school 10561, college 1 (the in-scope counselor's grant); "out of scope"
is a record of another school. Out-of-scope records are 404 (never 403); roles that take no part
in reviewing get 403 everywhere; anonymous callers get 401. The audit trail (list and export) is
the centre's, the admin's and the province's: everyone else gets 404 there, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from service.models import ProcessInstance, Record
from service.services import records
from tests.support import reviewing as rv

ROLES = ("student", "counselor_in", "counselor_out", "centre", "admin", "province", "anonymous")


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str  # {id}, {no}, {major}, {roster_no} are filled per record
    body: Any = None


ENDPOINTS: dict[str, Endpoint] = {
    "list": Endpoint("GET", "/api/v1/records?q={no}"),
    "get": Endpoint("GET", "/api/v1/records/{id}"),
    "edit": Endpoint("PATCH", "/api/v1/records/{id}", {"data": {"other": {"remark": "已核对"}}}),
    "add": Endpoint("POST", "/api/v1/records", "add"),
    "review": Endpoint("POST", "/api/v1/records/{id}/review", {"decision": "approve"}),
    "batch": Endpoint("POST", "/api/v1/reviews/batch", "batch"),
    "history": Endpoint("GET", "/api/v1/records/{id}/history"),
    "majors": Endpoint("GET", "/api/v1/review/majors"),
    "audit": Endpoint("GET", "/api/v1/audit?record={id}"),
    "audit_student": Endpoint("GET", "/api/v1/audit?student={no}"),
    "audit_export": Endpoint("GET", "/api/v1/audit/export.xlsx?record={id}"),
    "changes": Endpoint("GET", "/api/v1/records/{id}/changes-since-rejection"),
    "export": Endpoint("GET", "/api/v1/records/export.xlsx?q={no}"),
    "signoff": Endpoint("GET", "/api/v1/records/{id}/signoff.pdf"),
    "signoff_major": Endpoint("GET", "/api/v1/records/signoff.pdf?major={major}"),
    "on_behalf": Endpoint("POST", "/api/v1/records/{id}/submit-on-behalf", {}),
    # process analytics filtered to the record's major: the other school's major shows nothing
    # (the filter narrows the caller's scope, never widens it); the province and admins see both
    "analytics": Endpoint("GET", "/api/v1/analytics/burndown?major={major}"),
    "analytics_export": Endpoint("GET", "/api/v1/analytics/export.xlsx?table=durations&major={major}"),
}

# role -> endpoint -> (status for the in-scope record, status for the out-of-scope record)
AUDIT = ("audit", "audit_student", "audit_export")
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "student": {e: (404, 404) if e in AUDIT else (403, 403) for e in ENDPOINTS},
    # 省级 reads only through its own endpoints (progress, exports, analytics) and every school's audit trail
    "province": {**{e: (200, 200) if e in AUDIT else (403, 403) for e in ENDPOINTS},
                 "analytics": (200, 200), "analytics_export": (200, 200)},
    "anonymous": {e: (401, 401) for e in ENDPOINTS},
    "counselor_in": {
        "list": (200, 200), "get": (200, 404), "edit": (200, 404), "add": (201, 404), "review": (200, 404),
        "batch": (200, 200), "history": (200, 404), "majors": (200, 200), "audit": (404, 404),
        "audit_student": (404, 404), "audit_export": (404, 404), "changes": (200, 404),
        "export": (200, 200), "signoff": (200, 404), "signoff_major": (200, 200),
        "on_behalf": (409, 404),  # the record waits for this counselor's review, not for the student
        "analytics": (200, 200), "analytics_export": (200, 200),
    },
    "counselor_out": {
        "list": (200, 200), "get": (404, 404), "edit": (404, 404), "add": (404, 404), "review": (404, 404),
        "batch": (200, 200), "history": (404, 404), "majors": (200, 200), "audit": (404, 404),
        "audit_student": (404, 404), "audit_export": (404, 404), "changes": (404, 404), "export": (200, 200),
        "signoff": (404, 404), "signoff_major": (200, 200), "on_behalf": (404, 404),
        "analytics": (200, 200), "analytics_export": (200, 200),
    },
    "centre": {  # the in-scope record waits for the counselor, so the centre's review and edit are 409s
        "list": (200, 200), "get": (200, 404), "edit": (409, 404), "add": (201, 404), "review": (409, 404),
        "batch": (200, 200), "history": (200, 404), "majors": (200, 200), "audit": (200, 200),
        "audit_student": (200, 200), "audit_export": (200, 200), "changes": (200, 404),
        "export": (200, 200), "signoff": (200, 404), "signoff_major": (200, 200), "on_behalf": (409, 404),
        "analytics": (200, 200), "analytics_export": (200, 200),
    },
    "admin": {  # reads everything, changes nothing (not a BPMN lane)
        "list": (200, 200), "get": (200, 200), "edit": (403, 403), "add": (403, 403), "review": (403, 403),
        "batch": (403, 403), "history": (200, 200), "majors": (403, 403), "audit": (200, 200),
        "audit_student": (200, 200), "audit_export": (200, 200), "changes": (200, 200), "export": (200, 200),
        "signoff": (200, 200), "signoff_major": (200, 200), "on_behalf": (403, 403),
        "analytics": (200, 200), "analytics_export": (200, 200),
    },
}
# For these, a 200 does not say whether the record was visible; the body does.
VISIBLE = {
    "list": lambda body: body["total"] == 1,
    "batch": lambda body: body["succeeded"] == 1 or any(
        s["reason"] in ("already_reviewed", "not_at_your_level") for s in body["skipped"]),
    "audit": lambda body: body["total"] > 0,
    "audit_student": lambda body: body["total"] > 0,
    "analytics": lambda body: body["total"] > 0,  # records + unbound roster students of the major
}
SEES = {  # (in, out) visibility for the endpoints in VISIBLE, when the call is a 200
    "counselor_in": (True, False), "counselor_out": (False, False), "centre": (True, False),
    "admin": (True, True), "province": (True, True),
}


def test_the_table_covers_every_role_and_endpoint() -> None:
    assert set(EXPECTED) == set(ROLES)
    for row in EXPECTED.values():
        assert set(row) == set(ENDPOINTS)


@pytest.fixture
def setup(db):
    w = rv.make_world()
    rec_in = rv.submitted(w, w.m1)
    rec_out = rv.submitted(w, w.other_major)
    roster_in = rv.roster_student(w, w.m1)
    roster_out = rv.roster_student(w, w.other_major)
    rv.user("counselor_in", "counselor", w.school, colleges=(w.c1,))
    rv.user("counselor_out", "counselor", w.school, colleges=(w.c2,))
    rv.user("centre", "centre", w.school)
    rv.user("admin", "admin", None)
    rv.user("province", "province", None)
    rv.user("student", "student", w.school)
    report, _ = rv.report_for(w, w.m1)
    add_data = {"personal": {k: v for k, v in report["personal"].items()
                             if k not in ("name", "gender", "id_type", "id_number")}, "other": report["other"]}
    return {"in": (rec_in, roster_in, w.m1), "out": (rec_out, roster_out, w.other_major), "add_data": add_data}


def _call(api: rv.Api, endpoint: Endpoint, record: Any, roster: Any, major: Any, add_data: dict) -> Any:
    url = endpoint.url.format(id=record.id, no=record.student_no, major=major.id)
    body = endpoint.body
    if body == "add":
        body = {"student_no": roster.student_no, "data": add_data}
    elif body == "batch":
        body = {"record_ids": [record.id], "decision": "approve"}
    return api.call(endpoint.method, url, body)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(app, setup, role: str, endpoint: str) -> None:
    api = rv.login(app, None if role == "anonymous" else role, None if role in ("admin", "province") else "10561")
    expected_in, expected_out = EXPECTED[role][endpoint]
    before = {k: ProcessInstance.get(ProcessInstance.record == setup[k][0].id).status for k in ("in", "out")}
    # out of scope first: it must change nothing, whatever the role
    out = _call(api, ENDPOINTS[endpoint], *setup["out"], setup["add_data"])
    assert out.status_code == expected_out, (role, endpoint, "out", out.get_json() if out.is_json else None)
    assert ProcessInstance.get(ProcessInstance.record == setup["out"][0].id).status == before["out"]
    inside = _call(api, ENDPOINTS[endpoint], *setup["in"], setup["add_data"])
    assert inside.status_code == expected_in, (role, endpoint, "in", inside.get_json() if inside.is_json else None)
    for resp in (out, inside):
        if resp.status_code >= 400:
            assert set(resp.get_json()) == {"code", "message", "details"}
    if endpoint in VISIBLE and role in SEES:
        for resp, sees in zip((inside, out), SEES[role], strict=True):
            if resp.status_code == 200:
                assert VISIBLE[endpoint](resp.get_json()) is sees, (role, endpoint)


# 代为提交 where it applies: a record a reviewer added (no student account), then sent back (不同意).
ON_BEHALF_EXPECTED = {  # role -> (in scope, out of scope)
    "student": (403, 403), "anonymous": (401, 401), "counselor_in": (200, 404), "counselor_out": (404, 404),
    "centre": (200, 404), "admin": (403, 403), "province": (403, 403),
}


@pytest.fixture
def rejected_added(db):
    w = rv.make_world()
    for name, role, colleges in (("counselor_in", "counselor", (w.c1,)), ("counselor_out", "counselor", (w.c2,)),
                                 ("centre", "centre", ()), ("student", "student", ())):
        rv.user(name, role, w.school, colleges=colleges)
    rv.user("admin", "admin", None)
    rv.user("province", "province", None)
    rv.user("other_centre", "centre", w.other_school)
    found = {}
    for key, major, adder in (("in", w.m1, rv.reviewer("counselor", w.school)),
                              ("out", w.other_major, rv.reviewer("centre", w.other_school))):
        roster = rv.roster_student(w, major)
        report, _ = rv.report_for(w, major)
        data = {"personal": {k: v for k, v in report["personal"].items()
                             if k not in ("name", "gender", "id_type", "id_number")}, "other": report["other"]}
        rec_id = records.add_record(adder, roster.student_no, data)["record"]["id"]
        rv.reject(Record.get_by_id(rec_id), adder.role if key == "in" else "counselor", "请核对")
        found[key] = rec_id
    return found


def test_on_behalf_table_covers_every_role() -> None:
    assert set(ON_BEHALF_EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_on_behalf_authorization(app, rejected_added, role: str) -> None:
    api = rv.login(app, None if role == "anonymous" else role, None if role in ("admin", "province") else "10561")
    expected_in, expected_out = ON_BEHALF_EXPECTED[role]
    out = api.post(f"/api/v1/records/{rejected_added['out']}/submit-on-behalf", json={})
    assert out.status_code == expected_out, (role, out.get_json())
    assert ProcessInstance.get(ProcessInstance.record == rejected_added["out"]).status == "不同意"
    inside = api.post(f"/api/v1/records/{rejected_added['in']}/submit-on-behalf", json={})
    assert inside.status_code == expected_in, (role, inside.get_json())
    status = ProcessInstance.get(ProcessInstance.record == rejected_added["in"]).status
    assert status == ("二级待审" if expected_in == 200 else "不同意")
    for resp in (out, inside):
        if resp.status_code >= 400:
            assert set(resp.get_json()) == {"code", "message", "details"}


# The 审计日志 page, its export and 流程一致性检查 (server-rendered; the login is the page's form).
AUDIT_PAGE_EXPECTED = {  # role -> (/audit, /audit/export.xlsx, /audit/conformance?school=…)
    "student": (404, 404, 404), "counselor_in": (404, 404, 404), "counselor_out": (404, 404, 404),
    "centre": (200, 200, 200), "admin": (200, 200, 200), "province": (200, 200, 200),
    "anonymous": (302, 302, 302),
}


def test_audit_page_table_covers_every_role() -> None:
    assert set(AUDIT_PAGE_EXPECTED) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_audit_page_authorization(app, setup, role: str) -> None:
    rec_in = setup["in"][0]
    if role == "anonymous":
        client = app.test_client()
    else:
        client, _ = rv.page_login(app, role, None if role in ("admin", "province") else "10561")
    page = client.get(f"/audit?record={rec_in.id}")
    export = client.get(f"/audit/export.xlsx?record={rec_in.id}")
    conformance = client.get(f"/audit/conformance?school={rec_in.school_id}")
    assert (page.status_code, export.status_code, conformance.status_code) == AUDIT_PAGE_EXPECTED[role], role
    if conformance.status_code == 200:
        assert f"学校 {rec_in.school_id}：" in conformance.get_data(as_text=True)
    if page.status_code == 200:
        assert f'data-record-id="{rec_in.id}"' in page.get_data(as_text=True)
