"""The message pages: the student's message centre, and the centre's log, retry and templates
(who may see them, hostile template input, audit of template changes)."""

from __future__ import annotations

from service.models import AuditEvent, Notification, NotifyTemplate, Record
from service.services import processes
from service.services.notify import templates
from tests.support import reviewing as rv


def _roles() -> tuple[str, str, str]:
    d = processes.active_definition()[1]
    return d.submitter_role, d.reviewer_roles[0], d.school_wide_role


def _page_login(app, username: str):
    api = rv.login(app, username)
    return api


def test_student_sees_the_rejection_on_home_and_in_the_message_centre(app, db) -> None:
    world = rv.make_world()
    student_role, first, _ = _roles()
    rec = rv.submitted(world, world.m1)
    user = rv.user(rec.student_no, student_role, world.school)
    Record.update(user=user).where(Record.id == rec.id).execute()
    rv.reject(rec, first, "请补充紧急联系人")
    api = _page_login(app, rec.student_no)
    home = api.get("/student/").get_data(as_text=True) if api.get("/student/").status_code == 200 else \
        api.get("/").get_data(as_text=True)
    assert "1 条未读消息" in home or "消息（1）" in home
    page = api.get("/messages").get_data(as_text=True)
    assert "请补充紧急联系人" in page and "1 条未读" in page
    r = api.client.post("/messages/read", data={"csrf_token": api.csrf})
    assert r.status_code == 302 and Notification.get().read_at is not None


def test_centre_page_and_who_may_open_it(app, db) -> None:
    world = rv.make_world()
    _, first, centre = _roles()
    rv.user("centre", centre, world.school)
    rv.user("c1", first, world.school, colleges=(world.c1,))
    rv.user("other-centre", centre, world.other_school)
    assert _page_login(app, "centre").get("/centre/notifications").status_code == 200
    assert _page_login(app, "c1").get("/centre/notifications").status_code in (403, 404)
    # API: only the centre of the school; others 404
    assert _page_login(app, "c1").get("/api/v1/notifications").status_code == 404
    assert _page_login(app, "c1").post("/api/v1/notifications/retry", json={}).status_code == 404
    assert _page_login(app, "c1").call("PUT", "/api/v1/notifications/templates/rejected",
                                       json={"subject": "x", "body": "y"}).status_code == 404
    assert rv.login(app, None).get("/api/v1/notifications").status_code == 401
    assert rv.login(app, None).get("/api/v1/messages").status_code == 401


def test_templates_are_checked_audited_and_used(app, db) -> None:
    world = rv.make_world()
    _, first, centre = _roles()
    rv.user("centre", centre, world.school)
    api = _page_login(app, "centre")
    bad = api.call("PUT", "/api/v1/notifications/templates/rejected", json={"subject": "未通过", "body": "{姓名}：{不存在}"})
    assert bad.status_code == 422 and "{不存在}" in str(bad.get_json())
    hostile = api.client.put("/api/v1/notifications/templates/rejected",
                             data='{"subject": "a\\u0000b", "body": "\\ud800\\ud800"}',
                             content_type="application/json", headers={"X-CSRF-Token": api.csrf})
    assert hostile.status_code in (400, 422)
    assert api.call("PUT", "/api/v1/notifications/templates/nope", json={"subject": "a", "body": "b"}).status_code == 404
    ok = api.call("PUT", "/api/v1/notifications/templates/rejected",
                  json={"subject": "【{学校}】审核未通过", "body": "{姓名}，意见：{意见}"})
    assert ok.status_code == 204
    assert NotifyTemplate.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "notify_template").count() == 1
    rec = rv.submitted(world, world.m1)
    rv.reject(rec, first, "补充材料")
    note = Notification.get()
    assert note.subject == "【华南理工大学】审核未通过" and note.body == f"{rec.name}，意见：补充材料"
    # Page form: an unknown placeholder is shown back with the message, nothing saved.
    r = api.client.post("/centre/notifications/templates/approved",
                        data={"csrf_token": api.csrf, "subject": "好", "body": "{坏}"})
    assert r.status_code == 422 and "不认识的占位符" in r.get_data(as_text=True)
    assert templates.wording("10561", "approved").custom is False
    assert api.call("PUT", "/api/v1/notifications/schedule", json={"reminder_days": 0}).status_code == 422
    assert api.call("PUT", "/api/v1/notifications/schedule", json={"reminder_days": 5}).get_json() == {"count": 5}


def test_authorization_matrix_of_the_notify_endpoints(app, db) -> None:
    """Every role × every notify endpoint: the log, retry, templates and schedule belong to a school's
    centre and act on its own school only (another school's centre sees none of this school's rows;
    everyone else 404, anonymous 401); the messages endpoints answer each account for itself."""
    world = rv.make_world()
    student_role, first, centre = _roles()
    rec = rv.submitted(world, world.m1)
    Record.update(user=rv.user(rec.student_no, student_role, world.school)).where(Record.id == rec.id).execute()
    rv.reject(rec, first, "请补充")  # a row in 10561's log, a message for the student
    rv.user("c-in", first, world.school, colleges=(world.c1,))
    rv.user("c-out", first, world.school, colleges=(world.c2,))
    rv.user("centre", centre, world.school)
    rv.user("other-centre", centre, world.other_school)
    rv.user("root", "admin", None)
    centre_calls = [("GET", "/api/v1/notifications"), ("POST", "/api/v1/notifications/retry"),
                    ("GET", "/api/v1/notifications/templates"),
                    ("PUT", "/api/v1/notifications/templates/rejected"), ("PUT", "/api/v1/notifications/schedule")]
    bodies = {"/api/v1/notifications/templates/rejected": {"subject": "标题", "body": "{姓名}"},
              "/api/v1/notifications/schedule": {"reminder_days": 4}, "/api/v1/notifications/retry": {}}
    logins = {"student": (rec.student_no, "10561"), "c-in": ("c-in", "10561"), "c-out": ("c-out", "10561"),
              "centre": ("centre", "10561"), "other-centre": ("other-centre", "10562"), "admin": ("root", None)}
    for who, (username, school) in logins.items():
        api = rv.login(app, username, school)
        for method, url in centre_calls:
            status = api.call(method, url, json=bodies.get(url)).status_code
            if who in ("centre", "other-centre"):  # each centre acts on its own school only
                assert status in (200, 204), (who, url, status)
            else:
                assert status == 404, (who, method, url, status)
        assert api.get("/api/v1/messages").status_code == 200, who
        assert api.post("/api/v1/messages/read", json={}).status_code == 200, who
        if who in ("centre", "other-centre"):  # another school's log shows nothing of 10561's messages
            assert len(api.get("/api/v1/notifications").get_json()["items"]) == (1 if who == "centre" else 0)
    anonymous = rv.login(app, None)
    for method, url in [*centre_calls, ("GET", "/api/v1/messages"), ("POST", "/api/v1/messages/read")]:
        assert anonymous.call(method, url, json=bodies.get(url, {})).status_code == 401, url
