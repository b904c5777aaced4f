"""Authorization of the province account (省级), both ways.

1. Its own endpoints (API and pages) for every role: the province reads them; every other role is
   refused (403; anonymous: 401 on the API, the login page for pages), and a refused export is not
   audited.
2. Every other endpoint of the application, taken from the URL map so a new one is covered the day
   it lands: the province, which reads only, gets 403/404/405 everywhere except the few endpoints
   any visitor or any logged-in account has (login, who am I, code tables …), and
   nothing changes: no audit event, no status, no account.
"""

from __future__ import annotations

import pytest
from werkzeug.routing.converters import IntegerConverter

from service.models import AuditEvent, ProcessInstance, User
from tests.conftest import THREE_LEVEL_BPMN
from tests.support.province import login_as as _login
from tests.support.province import make_province

ROLES = ("student", "counselor", "centre", "admin", "province", "anonymous")
OWN_API = ("/api/v1/province/schools", "/api/v1/province/schools/10561", "/api/v1/province/export.xlsx",
           "/api/v1/province/export.xlsx?school=10562")
OWN_PAGES = ("/province", "/province/schools/10561", "/province/export.xlsx", "/province/export.xlsx?school=10562")


@pytest.fixture
def prov(db):
    return make_province()




@pytest.mark.parametrize("role", ROLES)
def test_own_endpoints_for_every_role(app, prov, role: str) -> None:
    api = _login(app, role)
    exports_before = AuditEvent.select().where(AuditEvent.action == "export").count()
    for url in OWN_API:
        r = api.get(url)
        r.get_data()  # a streamed export runs to its end
        expected = {"province": 200, "anonymous": 401}.get(role, 403)
        assert r.status_code == expected, (role, url, r.get_json() if r.is_json else None)
        if expected != 200:
            assert set(r.get_json()) == {"code", "message", "details"}
    for url in OWN_PAGES:
        r = api.get(url)
        r.get_data()
        if role == "province":
            assert r.status_code == 200, url
        elif role == "anonymous":
            assert r.status_code == 302 and "/login" in r.headers["Location"], url
        else:
            assert r.status_code == 403, (role, url)
            assert "无权" in r.get_data(as_text=True) or "不能访问" in r.get_data(as_text=True)
    exports_after = AuditEvent.select().where(AuditEvent.action == "export").count()
    assert exports_after - exports_before == (4 if role == "province" else 0)


# Endpoints any visitor or any logged-in account may reach (not the province's reading powers).
OPEN_TO_ANY_ACCOUNT = {
    "static", "api-docs.openapi_json", "health.healthz", "codes.list_tables", "codes.get_table",
    "auth.login", "auth.logout", "auth.me", "auth.change_password",
    "web_auth.index", "web_auth.login", "web_auth.logout", "web_auth.change_password",
    # the student's pre-login flows (实名认证, 学籍绑定, 找回密码): forms for someone not yet bound
    "student.bind", "student.recover_password", "student.verify_identity",
    "web_student.bind", "web_student.forgot", "web_student.start", "web_student.verify",
    # the API inbox of any signed-in account: only messages addressed to it (none for the province)
    "notify.list_messages", "notify.read_messages",
}
# The province reads every school's audit trail (issue 14, tests/integration/test_audit_trail.py);
# its exports are audited, so they are left out of the "changes nothing" walk below.
PROVINCE_AUDIT_READS = {"audit.audit_events", "audit.audit_export", "web_audit.audit_page", "web_audit.audit_export"}
# The province's own blueprints, the read-only conformance page and the process analytics it reads
# for every school (test_analytics_api.py).
PROVINCE_BLUEPRINTS = ("province", "web_province", "web_conformance", "analytics", "web_analytics")
PARAMS = {"table": "gender", "section": "personal", "action": "reset", "kind": "remind", "filename": "css/app.css"}
REFUSED = {401, 403, 404, 405}
# Endpoints that check the body before the role (the service refuses): given a valid body, so
# the answer is about the role and not the input.
BODIES = {
    "processes.validate_process": {"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8")},
    "processes.deploy_process": {"bpmn": THREE_LEVEL_BPMN.read_text(encoding="utf-8"), "source_name": "x.bpmn"},
    "notify.put_schedule": {"reminder_days": 3},
}


def _url(rule, record_id: int) -> str:  # noqa: ANN001 - werkzeug Rule
    values = {name: (record_id if isinstance(conv, IntegerConverter) else PARAMS.get(name, "x"))
              for name, conv in rule._converters.items()}
    return rule.build(values)[1]


def test_the_province_reaches_no_other_endpoint_and_changes_nothing(app, prov) -> None:
    api = _login(app, "province")
    record = prov.complete[0]
    before = (AuditEvent.select().count(), list(ProcessInstance.select(ProcessInstance.id, ProcessInstance.status)
                                                .order_by(ProcessInstance.id).tuples()),
              User.select().where(User.active == True).count())  # noqa: E712
    reached: list[str] = []
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_TO_ANY_ACCOUNT | PROVINCE_AUDIT_READS or \
                rule.endpoint.split(".")[0] in PROVINCE_BLUEPRINTS:
            continue
        url = _url(rule, record.id)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                r = api.get(url)
            elif rule.endpoint.startswith("web_"):
                r = api.client.open(url, method=method, data={"csrf_token": api.csrf})
            else:
                r = api.call(method, url, BODIES.get(rule.endpoint, {}))
            checked += 1
            if r.status_code not in REFUSED:
                reached.append(f"{method} {url} ({rule.endpoint}) → {r.status_code}")
    assert checked > 80
    assert not reached, "\n".join(reached)
    after = (AuditEvent.select().count(), list(ProcessInstance.select(ProcessInstance.id, ProcessInstance.status)
                                               .order_by(ProcessInstance.id).tuples()),
             User.select().where(User.active == True).count())  # noqa: E712
    assert after == before


def test_the_province_has_no_full_id_and_no_record(app, prov) -> None:
    api = _login(app, "province")
    record = prov.complete[0]
    for url in (f"/api/v1/records/{record.id}?full_id=true", f"/api/v1/records?q={record.student_no}",
                f"/console/records/{record.id}"):
        assert api.get(url).status_code == 403, url


def test_what_any_account_reaches_works_for_the_province(app, prov) -> None:
    api = _login(app, "province")
    for url in ("/", "/api/v1/auth/me", "/password", "/api/v1/codes"):
        r = api.get(url)
        assert r.status_code in (200, 302), (url, r.status_code)
    me = api.get("/api/v1/auth/me").get_json()
    assert me["role"] == "province" and not me.get("school_code")
    page = api.get("/password").get_data(as_text=True)
    assert "全省进度" in page  # the top bar leads back to its own view
