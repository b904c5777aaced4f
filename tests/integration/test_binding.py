"""Identity check and binding: mainland with/without token, 港澳台 without, mismatches, lockout, twice."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from service.config import load_settings
from service.errors import GradflowError, Unauthorized
from service.models import AuditEvent, ProcessInstance, Record, User
from service.services import identity, roster
from service.services.actors import ADMIN_ROLE, Actor
from tests.support import factories as f
from tests.support import roster_files as rf

PASSWORD = "student-pass-1"
MAINLAND = rf.student(1)
HMT = rf.hmt_student(2)
OTHER = rf.student(3)
OUT_OF_SCOPE = rf.student(4, **{"能否正常毕业": "否"})


@pytest.fixture
def roster_db(db):
    f.school()
    rows = [MAINLAND, HMT, OTHER, OUT_OF_SCOPE]
    report = roster.import_roster(rf.xlsx_bytes(rows), "r.xlsx", school_code="10561", year=2021,
                                  actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    assert report.counts["imported"] == 3 and report.counts["excluded"] == 1
    return db


def _verify(client, row: dict, **overrides):
    body = {"name": row["姓名"], "id_number": row["证件号码"], **overrides}
    return client.post("/api/v1/student/verify-identity", json=body)


def _bind(client, row: dict, *, category: str = "mainland", token: str | None = "", **overrides):
    body = {"category": category, "school_code": "10561", "student_no": row["学号"], "name": row["姓名"],
            "id_type": "01" if category == "mainland" else "02", "id_number": row["证件号码"], "password": PASSWORD,
            **({"verification_token": token} if token is not None else {}), **overrides}
    return client.post("/api/v1/student/bind", json=body)


def _token(client, row: dict) -> str:
    response = _verify(client, row)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["verification_token"]


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_mainland_student_verifies_then_binds_and_is_logged_in(client, roster_db) -> None:
    token = _token(client, MAINLAND)
    response = _bind(client, MAINLAND, token=token)
    assert response.status_code == 201, response.get_json()
    me = client.get("/api/v1/auth/me").get_json()
    assert (me["username"], me["role"], me["school_code"]) == (MAINLAND["学号"], "student", "10561")
    record = Record.get(Record.id == me["record_id"])
    assert (record.student_no, record.name, record.id_number, record.category) == (
        MAINLAND["学号"], MAINLAND["姓名"], MAINLAND["证件号码"], "mainland")
    assert record.data["school"]["college"] == "计算机学院" and record.data["school"]["education_level"] == "31"
    assert record.data["personal"] == {"name": MAINLAND["姓名"], "gender": "1", "id_type": "01",
                                       "id_number": MAINLAND["证件号码"]}
    instance = ProcessInstance.get(ProcessInstance.record == record.id)
    assert (instance.status, instance.role) == ("未提交", "student")
    assert [e.action for e in AuditEvent.select().where(AuditEvent.record == record.id)] == ["bind"]
    # later visits: log in with 学号 + school code
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": response.get_json()["csrf_token"]})
    login = client.post("/api/v1/auth/login", json={"username": MAINLAND["学号"], "password": PASSWORD,
                                                    "school_code": "10561"})
    assert login.status_code == 200 and login.get_json()["record_id"] == record.id


def test_mainland_without_or_with_a_foreign_token_is_refused(client, roster_db) -> None:
    missing = _bind(client, MAINLAND, token=None)
    assert missing.status_code == 401 and missing.get_json()["code"] == "identity_token_required"
    forged = _bind(client, MAINLAND, token="not-a-token")
    assert forged.status_code == 401 and forged.get_json()["code"] == "identity_token_invalid"
    others = _token(client, OTHER)
    mismatch = _bind(client, MAINLAND, token=others)
    assert mismatch.status_code == 401 and mismatch.get_json()["code"] == "identity_token_mismatch"
    assert Record.select().count() == 0 and User.select().count() == 0


def test_expired_token_is_refused(roster_db, settings) -> None:
    token = identity.verify_identity(MAINLAND["姓名"], MAINLAND["证件号码"], settings)
    identity.check_token(token, MAINLAND["证件号码"], settings)  # fresh: fine
    stale = load_settings(environ={}, secret_key=settings.secret_key, identity_token_seconds=-1)
    with pytest.raises(Unauthorized) as caught:
        identity.check_token(token, MAINLAND["证件号码"], stale)
    assert caught.value.code == "identity_token_expired"


def test_offline_verifier_refuses_invalid_numbers(client, roster_db) -> None:
    bad = MAINLAND["证件号码"][:17] + ("0" if MAINLAND["证件号码"][17] != "0" else "1")
    response = _verify(client, MAINLAND, id_number=bad)
    assert response.status_code == 422 and response.get_json()["code"] == "identity_not_verified"
    assert "校验位" in response.get_json()["details"]["id_number"][0]
    assert _verify(client, MAINLAND, id_number="44010619990230001X").status_code == 422  # 30 Feb
    assert client.post("/api/v1/student/verify-identity", json={"name": "x"}).status_code == 422


def test_hmt_student_binds_without_a_token(client, roster_db) -> None:
    response = _bind(client, HMT, category="hmt", token=None)
    assert response.status_code == 201, response.get_json()
    record = Record.get(Record.student_no == HMT["学号"])
    assert record.category == "hmt" and record.data["personal"]["id_type"] == "02"


@pytest.mark.parametrize(("override", "field", "message"), [
    ({"student_no": "2099999999"}, "student_no", "学号不存在"),
    ({"name": "王五"}, "name", "姓名不符"),
    ({"id_number": rf.student(3)["证件号码"]}, "id_number", "证件类型或证件号码不符"),
])
def test_mismatch_says_which_part_without_revealing_the_roster(client, roster_db, override, field, message) -> None:
    body_number = override.get("id_number", MAINLAND["证件号码"])
    token = _token(client, {**MAINLAND, "证件号码": body_number})
    response = _bind(client, MAINLAND, token=token, **override)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "bind_mismatch" and body["details"][field] == [message]
    text = response.get_data(as_text=True)
    assert MAINLAND["姓名"] not in text and MAINLAND["证件号码"] not in text and OTHER["姓名"] not in text


def test_out_of_scope_student_cannot_bind(client, roster_db) -> None:
    response = _bind(client, OUT_OF_SCOPE, token=_token(client, OUT_OF_SCOPE))
    assert response.status_code == 422 and "不在上报范围" in response.get_json()["details"]["student_no"][0]


def test_wrong_category_is_a_mismatch(client, roster_db) -> None:
    response = _bind(client, HMT, category="mainland", token=_token(client, MAINLAND), id_number=MAINLAND["证件号码"])
    assert response.status_code == 422


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_five_failures_lock_that_student_number(client, roster_db, settings) -> None:
    token = _token(client, MAINLAND)
    for attempt in range(settings.login_max_failures):
        response = _bind(client, MAINLAND, token=token, name=f"错名{attempt}")
        assert response.status_code == 422
        assert response.get_json()["details"]["attempts_left"] == settings.login_max_failures - attempt - 1
    locked = _bind(client, MAINLAND, token=token)  # now even the right data
    assert locked.status_code == 403 and locked.get_json()["code"] == "locked"
    assert Record.select().count() == 0
    # another 学号 is not affected
    assert _bind(client, OTHER, token=_token(client, OTHER)).status_code == 201


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_binding_twice_is_refused(app, roster_db) -> None:
    first, second = app.test_client(), app.test_client()
    assert _bind(first, MAINLAND, token=_token(first, MAINLAND)).status_code == 201
    again = _bind(second, MAINLAND, token=_token(second, MAINLAND))
    assert again.status_code == 409 and again.get_json()["code"] == "already_bound"
    assert Record.select().count() == 1 and User.select().count() == 1


def test_bad_bind_input_is_422_not_500(client, roster_db) -> None:
    assert client.post("/api/v1/student/bind", json={"category": "alien"}).status_code == 422
    short = _bind(client, HMT, category="hmt", token=None, password="short")
    assert short.status_code == 422 and "password" in short.get_json()["details"]
    unknown_school = _bind(client, HMT, category="hmt", token=None, school_code="99999")
    assert unknown_school.status_code == 404


class _IdentityService(BaseHTTPRequestHandler):
    """A stand-in identity service on a real socket: verifies one known person."""

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = body == {"name": MAINLAND["姓名"], "id_number": MAINLAND["证件号码"]}
        answer = json.dumps({"verified": ok, "message": "" if ok else "人像比对未通过"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def test_http_provider_posts_to_the_configured_service(settings) -> None:
    server = HTTPServer(("127.0.0.1", 0), _IdentityService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        http = load_settings(environ={}, secret_key="s", identity_provider="http",
                             identity_http_url=f"http://127.0.0.1:{server.server_port}/verify")
        token = identity.verify_identity(MAINLAND["姓名"], MAINLAND["证件号码"], http)
        identity.check_token(token, MAINLAND["证件号码"], http)
        with pytest.raises(GradflowError) as caught:
            identity.verify_identity("别人", MAINLAND["证件号码"], http)
        assert caught.value.code == "identity_not_verified" and caught.value.message == "人像比对未通过"
    finally:
        server.shutdown()
        server.server_close()
    down = load_settings(environ={}, secret_key="s", identity_provider="http",
                         identity_http_url=f"http://127.0.0.1:{server.server_port}/verify", identity_http_timeout=1.0)
    with pytest.raises(identity.VerifierUnavailable):
        identity.verify_identity(MAINLAND["姓名"], MAINLAND["证件号码"], down)
