"""Issue 14, the conformance page (/audit/conformance): who may run it on which school, and what it shows.

Two schools on different processes (10561 two levels, 10562 three): each school's histories are
checked against its own diagram, so both conform; a status edited in the database is named.
"""

from __future__ import annotations

import pytest

from service.db import database
from tests.support.province import login_as as _login
from tests.support.province import make_province

URL = "/audit/conformance"


@pytest.fixture
def prov(db):
    return make_province()


@pytest.mark.parametrize("role", ["student", "counselor"])
def test_roles_without_audit_powers_get_404_as_on_the_audit_page(app, prov, role):
    api = _login(app, role)
    for url in (URL, f"{URL}?school=10561", "/audit"):
        r = api.get(url)
        assert r.status_code == 404 and "不存在" in r.get_data(as_text=True), (role, url)


def test_anonymous_is_sent_to_login(app, prov):
    r = _login(app, "anonymous").get(URL)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_centre_checks_its_own_school_whatever_it_asks(app, prov):
    page = _login(app, "centre").get(f"{URL}?school=10562").get_data(as_text=True)
    assert "学校 10561：" in page and "全部符合流程图" in page
    assert "10562" not in page.split('id="conformance-result"')[1]


@pytest.mark.parametrize("role", ["admin", "province"])
def test_admin_and_province_choose_a_school_and_each_runs_on_its_own_diagram(app, prov, role):
    api = _login(app, role)
    first = api.get(URL).get_data(as_text=True)
    assert 'id="conformance-school"' in first and 'id="conformance-result"' not in first
    for code in ("10561", "10562"):
        page = api.get(f"{URL}?school={code}").get_data(as_text=True)
        assert f"学校 {code}：" in page and "全部符合流程图" in page, page[-800:]


@pytest.mark.parametrize("query", ["99999", "x" * 5000, "..%2F10561", "%FF%FE", "%ED%A0%80"])
def test_an_unknown_or_hostile_school_is_404_in_chinese(app, prov, query):
    r = _login(app, "province").get(f"{URL}?school={query}")
    assert r.status_code == 404 and "不存在" in r.get_data(as_text=True)


def test_a_nul_in_the_school_is_refused_by_the_input_guard(app, prov):
    r = _login(app, "province").get(f"{URL}?school=1%0056")
    assert r.status_code == 422 and any("\u4e00" <= ch <= "\u9fff" for ch in r.get_data(as_text=True))


@pytest.mark.audit_tampered
def test_a_tampered_record_is_named_with_its_problem(app, prov):
    rec = prov.complete[0]
    database.execute_sql(f"UPDATE process_instance SET status = '二级待审' WHERE record_id = {int(rec.id)}")
    page = _login(app, "province").get(f"{URL}?school={rec.school_id}").get_data(as_text=True)
    assert "条不符合流程图" in page
    findings = page.split('id="conformance-findings"')[1]
    assert f"<td>{rec.id}</td>" in findings and "当前状态与事件不符" in findings and "引擎状态不符" in findings
