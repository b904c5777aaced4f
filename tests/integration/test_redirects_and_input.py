"""Low items of issue 9: open redirects via ?next=, trivial passwords, and pasted invisible characters.

Attacks reproduced: `?next=/%5Cevil.example` (a browser reads `/\\evil.example` as `//evil.example`)
was echoed into the login form and the console's back links; `12345678` and eight spaces were
accepted as passwords; the API did not trim a 学号, and a roster name with a zero-width space could
never bind while every try counted toward the lock.
"""

from __future__ import annotations

import pytest

from service.errors import InvalidInput
from service.models import Record, User
from service.services import accounts
from service.validation.text import normalise_code, normalise_name
from service.web.common import safe_next
from tests.support import factories as f
from tests.support.accounts import PASSWORD, login, make_user

EVIL = ["/%5Cevil.example", "/\\evil.example", "//evil.example", "/\\\\evil.example", "https://evil.example",
        "/\t/evil.example", "\\/evil.example", "http:/evil.example", " //evil.example", "javascript:alert(1)"]


@pytest.fixture
def org(db):
    sch = f.school()
    make_user("centre", "centre", "10561")
    make_user("coun1", "counselor", "10561")
    return {"school": sch, "record": f.record(f.major(f.college(sch)))}


def _form_token(client) -> str:
    client.get("/login")
    with client.session_transaction() as s:
        return s["csrf"]


@pytest.mark.parametrize("target", EVIL)
def test_login_never_sends_or_links_off_site(client, org, target) -> None:
    decoded = target.replace("%5C", "\\")
    page = client.get("/login", query_string={"next": decoded}).get_data(as_text=True)
    assert "evil.example" not in page and 'name="next"' not in page
    response = client.post("/login", data={"csrf_token": _form_token(client), "school_code": "10561",
                                           "username": "centre", "password": PASSWORD, "next": decoded})
    assert response.status_code == 302 and response.headers["Location"] == "/centre/dashboard"


@pytest.mark.parametrize("target", EVIL)
def test_console_back_links_stay_on_site(client, org, target) -> None:
    login(client, "coun1", "10561")
    page = client.get(f"/console/records/{org['record'].id}",
                      query_string={"next": target.replace("%5C", "\\")}).get_data(as_text=True)
    assert "evil.example" not in page


def test_same_site_paths_are_kept() -> None:
    assert safe_next("/console/?q=1&page=2") == "/console/?q=1&page=2"
    assert safe_next("/centre/dashboard") == "/centre/dashboard"
    for target in EVIL:
        assert safe_next(target.replace("%5C", "\\")) is None, target


@pytest.mark.parametrize(("password", "message"), [
    ("12345678", "连续"), ("87654321", "连续"), ("        ", "空格"), ("aaaaaaaa", "同一个字符"),
    ("password", "常见"), ("Password1", "常见"), ("qwertyuiop", "常见"), ("newcoun1", "用户名"), ("short", "至少"),
])
def test_trivial_passwords_are_refused(db, password, message) -> None:
    f.school()
    with pytest.raises(InvalidInput) as info:
        accounts.create_user("newcoun1", password, "counselor", school_code="10561", creator=None)
    assert info.value.status == 422 and info.value.code == "weak_password" and message in info.value.message
    assert not User.select().where(User.username == "newcoun1").exists()


def test_trivial_password_refused_on_the_centre_page(client, org) -> None:
    login(client, "centre", "10561")
    with client.session_transaction() as s:
        token = s["csrf"]
    response = client.post("/centre/accounts", data={"csrf_token": token, "username": "c9", "role": "counselor",
                                                      "password": "12345678", "password2": "12345678"})
    assert response.status_code == 422 and "连续" in response.get_data(as_text=True)
    assert not User.select().where(User.username == "c9").exists()


def test_normalisers() -> None:
    assert normalise_name(" 张\u200b三\u00a0 ") == "张三"
    assert normalise_name("Li\u00a0 \u3000Si") == "Li Si"
    assert normalise_name("李\ufeff四\u200d") == "李四"
    assert normalise_code(" 2017 0001\u200b９０１ ") == "20170001901"


def test_api_login_trims_and_normalises_the_username(client, org) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "  coun1\u200b ", "password": PASSWORD,
                                                       "school_code": " 10561 "})
    assert response.status_code == 200, response.get_json()


def test_roster_name_with_a_zero_width_space_binds(client, db) -> None:
    from service.models import RosterStudent
    from service.services import roster
    from service.services.actors import ADMIN_ROLE, Actor
    from tests.support import roster_files as rf

    f.school()
    row = rf.student(7)
    stored = row["姓名"][:1] + "\u200b" + row["姓名"][1:]  # as pasted from a chat into the roster
    roster.import_roster(rf.xlsx_bytes([row]), "r.xlsx", school_code="10561", year=2021,
                         actor=Actor(username="ops", role=ADMIN_ROLE, school_code=None))
    RosterStudent.update(name=stored).execute()  # a roster row as older imports stored it
    verified = client.post("/api/v1/student/verify-identity",
                           json={"name": row["姓名"] + "\u200b", "id_number": " " + row["证件号码"].lower() + " "})
    assert verified.status_code == 200, verified.get_json()
    response = client.post("/api/v1/student/bind", json={
        "category": "mainland", "school_code": "10561", "student_no": f" {row['学号']}\u200b ", "name": row["姓名"],
        "id_type": "01", "id_number": row["证件号码"], "password": "student-pass-77",
        "verification_token": verified.get_json()["verification_token"]})
    assert response.status_code == 201, response.get_json()
    assert Record.select().count() == 1 and User.get(User.username == row["学号"])
