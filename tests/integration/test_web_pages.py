"""Page-level rules that need no browser: CSRF on forms, who may open which page, scope, redirects."""

from __future__ import annotations

import pytest

from service.services import accounts
from tests.support import factories

PASSWORD = "page-test-pass"


@pytest.fixture
def org(db):
    sch = factories.school()
    mine = factories.college(sch, "计算机学院")
    other = factories.college(sch, "外国语学院")
    m1 = factories.major(mine, "080901", "计算机科学与技术")
    m2 = factories.major(other, "050201", "英语")
    accounts.create_user("c1", PASSWORD, "counselor", school_code=sch.code, creator=None, colleges=[mine.name])
    accounts.create_user("centre", PASSWORD, "centre", school_code=sch.code, creator=None)
    return {"school": sch, "inside": factories.record(m1), "outside": factories.record(m2)}


def _token(client) -> str:
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf"]


def _login(client, username: str, school: str = "10561", next_url: str | None = None):
    data = {"csrf_token": _token(client), "school_code": school, "username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


def test_login_form_needs_its_csrf_token(client, org):
    client.get("/login")
    response = client.post("/login", data={"school_code": "10561", "username": "c1", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.get_data(as_text=True)


def test_logged_in_forms_need_the_csrf_token(client, org):
    assert _login(client, "c1").status_code == 302
    refused = client.post("/console/batch", data={"record_ids": [org["inside"].id], "decision": "approve"})
    assert refused.status_code == 403
    assert "CSRF" in refused.get_data(as_text=True)


def test_pages_admit_only_their_roles(client, org):
    anonymous = client.get("/console/")
    assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
    _login(client, "c1")
    assert client.get("/console/").status_code == 200
    assert client.get("/centre/dashboard").status_code == 403
    assert client.get("/centre/processes").status_code == 403
    assert client.get("/student/").status_code == 403


def test_records_out_of_scope_are_not_found(client, org):
    _login(client, "c1")
    assert client.get(f"/console/records/{org['inside'].id}").status_code == 200
    hidden = client.get(f"/console/records/{org['outside'].id}")
    assert hidden.status_code == 404
    assert "记录不存在" in hidden.get_data(as_text=True)
    assert org["outside"].student_no not in hidden.get_data(as_text=True)


def test_login_never_redirects_off_site(client, org):
    response = _login(client, "centre", next_url="https://evil.example/steal")
    assert response.status_code == 302
    assert response.headers["Location"] == "/centre/dashboard"


def test_bad_console_filters_are_a_message_not_a_500(client, org):
    _login(client, "centre")
    response = client.get("/console/?review_status=不存在的状态&page=abc&per_page=99999")
    assert response.status_code == 422
    assert "未知的审核状态" in response.get_data(as_text=True)
