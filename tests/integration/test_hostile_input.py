"""Bad input that used to be a 500 (several without login) is now a 4xx with a Chinese message."""

from __future__ import annotations

import json

import pytest

from service.models import AuditEvent, User
from tests.integration.test_student_report import MAINLAND, PERSONAL, _bind, _put, roster_db  # noqa: F401
from tests.support import factories as f
from tests.support.accounts import make_user


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _raw_login(client, body: str):
    return client.post("/api/v1/auth/login", data=body.encode("utf-8"), content_type="application/json")


def test_json_nested_1000_deep_is_400_without_login(client, db) -> None:
    body = '{"username": ' + "[" * 1000 + "]" * 1000 + ', "password": "x", "school_code": "10561"}'
    response = _raw_login(client, body)
    assert response.status_code == 400, response.data[:300]
    assert response.get_json()["code"] == "json_too_deep" and _chinese(response.get_json()["message"])


def test_json_deep_inside_strings_is_not_counted(client, db) -> None:
    body = json.dumps({"username": "[{" * 20, "password": "x", "school_code": "10561"})
    assert _raw_login(client, body).status_code == 401


def test_lone_surrogate_in_a_login_field_is_422(client, db) -> None:
    response = _raw_login(client, '{"username": "\\ud800", "password": "x", "school_code": "10561"}')
    assert response.status_code == 422, response.data[:300]
    body = response.get_json()
    assert body["code"] == "invalid_characters" and "U+D800" in body["message"] and "username" in body["details"]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_nul_in_login_fields_is_422_and_nothing_written(client, db) -> None:
    f.school()
    make_user("centre1", "centre", "10561")
    events = AuditEvent.select().count()
    for field in ("username", "password", "school_code"):
        body = {"username": "centre1", "password": "x", "school_code": "10561", field: "centre\u00001"}
        response = client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422, (field, response.get_json())
        assert response.get_json()["code"] == "invalid_characters"
        assert "U+0000" in response.get_json()["message"] and field in response.get_json()["details"]
    assert AuditEvent.select().count() == events
    assert User.select().count() == 1


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_nul_in_the_personal_section_is_422_and_the_draft_unchanged(client, roster_db) -> None:  # noqa: F811
    token = _bind(client, MAINLAND)
    assert _put(client, token, "personal", PERSONAL).status_code == 200
    before = client.get("/api/v1/student/report").get_json()
    events = AuditEvent.select().count()
    response = _put(client, token, "personal", {**PERSONAL, "origin_region": "440106\u0000"})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "invalid_characters"
    assert "origin_region" in response.get_json()["details"]
    nested = _put(client, token, "personal", {**PERSONAL, "extra": [{"a\u0000": 1}]})
    assert nested.status_code == 422 and "extra[0].a\u0000" in nested.get_json()["details"]
    assert client.get("/api/v1/student/report").get_json() == before
    assert AuditEvent.select().count() == events


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_nul_in_a_web_form_post_and_query_is_422_html(client, db) -> None:
    f.school()
    make_user("centre1", "centre", "10561")
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post("/login", data={"csrf_token": token, "school_code": "10561", "username": "centre\x001",
                                           "password": "x"})
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "空字符" in page and "U+0000" in page
    query = client.get("/login?next=/console%00")
    assert query.status_code == 422 and query.mimetype == "text/html"
    api_query = client.get("/api/v1/codes/regions?parent=44%00")
    assert api_query.status_code == 422 and api_query.get_json()["code"] == "invalid_characters"


def test_invalid_utf8_json_is_400_not_500(client, db) -> None:
    response = client.post("/api/v1/auth/login", data=b'{"username": "\xff\xfe", "password": "x"}',
                           content_type="application/json")
    assert 400 <= response.status_code < 500, response.data[:300]


def test_json_body_over_2_mib_is_413(client, db) -> None:
    body = json.dumps({"username": "a", "password": "x", "school_code": "10561", "pad": "[]" * (1536 * 1024)})
    response = _raw_login(client, body)
    assert response.status_code == 413 and response.get_json()["code"] == "json_too_large"
    assert _chinese(response.get_json()["message"])
