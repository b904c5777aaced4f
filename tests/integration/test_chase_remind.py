"""提醒 from a chase list: exactly the listed students of the reviewer's scope, audited once."""

from __future__ import annotations

from urllib.parse import quote

from service.models import AuditEvent, Notification, Record
from service.services import processes
from tests.support import reviewing as rv


def test_a_counselor_reminds_only_the_listed_students_of_its_scope(app, db) -> None:
    world = rv.make_world()
    d = processes.active_definition()[1]
    first = d.reviewer_roles[0]
    rv.user("c1", first, world.school, colleges=(world.c1,))
    rv.user("centre", d.school_wide_role, world.school)
    mine = rv.roster_student(world, world.m1)
    theirs = rv.roster_student(world, world.m3)  # another college
    rejected = rv.submitted(world, world.m1)
    student = rv.user(rejected.student_no, d.submitter_role, world.school)
    Record.update(user=student).where(Record.id == rejected.id).execute()
    rv.reject(rejected, first, "请修改")
    before = Notification.select().count()

    api = rv.login(app, "c1")
    r = api.post("/api/v1/chase/remind?state=" + quote("未绑定"))
    assert r.status_code == 200 and r.get_json() == {"count": 1}
    reminded = list(Notification.select().where(Notification.kind == "reminder"))
    assert [n.recipient for n in reminded] == [mine.student_no] and theirs.student_no != mine.student_no
    assert AuditEvent.select().where(AuditEvent.action == "notify_remind").count() == 1

    rejected_label = next(t["status"] for t in d.meta["tasks"].values()
                          if t["action"] == "submit" and t["status"] != d.meta["initial_status"])
    r = api.post("/api/v1/chase/remind?state=" + quote(rejected_label))
    assert r.get_json() == {"count": 1}
    note = Notification.select().where(Notification.kind == "reminder").order_by(Notification.id.desc()).get()
    assert note.user_id == student.id and rejected_label in note.body
    assert Notification.select().count() == before + 2

    # Out of scope: another college's list is empty for the counselor → nothing to remind (422).
    r = api.post(f"/api/v1/chase/remind?state={quote('未绑定')}&college={world.c2.id}")
    assert r.status_code == 422 and Notification.select().count() == before + 2
    # Wrong roles: a student, anonymous.
    assert rv.login(app, rejected.student_no).post("/api/v1/chase/remind").status_code == 403
    assert rv.login(app, None).post("/api/v1/chase/remind").status_code == 401
    # The page form must be confirmed.
    page = rv.login(app, "centre")
    r = page.client.post("/console/chase/remind", data={"csrf_token": page.csrf, "state": "未绑定"})
    assert r.status_code == 422 and "请勾选确认" in r.get_data(as_text=True)
    r = page.client.post("/console/chase/remind", data={"csrf_token": page.csrf, "state": "未绑定", "confirm": "1"})
    assert r.status_code == 302 and Notification.select().count() == before + 4  # the centre: both colleges
