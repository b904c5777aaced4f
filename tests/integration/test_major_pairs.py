"""专业代码 and 专业 are one choice: every write path checks the pair against the school's majors.

The original steps: a reviewer edit set 专业代码 080901 while 专业 stayed 软件工程 (080902), and
the record was saved and exported that way. make_world's college c1 has 080901 计算机科学与技术 and
080902 软件工程; c2 has 050201 英语.
"""

from __future__ import annotations

import pytest

from service.errors import InvalidInput
from service.models import AuditEvent, Major, PendingTask, Record, RosterStudent
from service.services import roster, student_report
from service.services.actors import ADMIN_ROLE, Actor
from tests.support import reviewing as rv
from tests.support import roster_files as rf

MISMATCH = {"major_code": "080901", "major": "软件工程"}


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    rv.user("m1only", "counselor", w.school, majors=(w.m1,))
    return w


def test_reviewer_edit_with_a_mismatched_pair_is_422_and_saves_nothing(app, world) -> None:
    rec = rv.submitted(world, world.m2)  # 080902 软件工程
    before, events = Record.get_by_id(rec.id).data, AuditEvent.select().count()
    api = rv.login(app, "c1")
    r = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"school": {"major_code": "080901"}}})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == "major_mismatch"
    assert "080901" in body["message"] and "计算机科学与技术" in body["message"] and "软件工程" in body["message"]
    assert "school.major_code" in body["details"]
    assert Record.get_by_id(rec.id).data == before and AuditEvent.select().count() == events
    # the same through the console form's fields
    form = api.get(f"/console/records/{rec.id}/edit").get_data(as_text=True)
    assert 'name="school.major_choice"' in form and 'name="school.major_code"' not in form
    assert '<option value="080902|软件工程" selected>080902 软件工程</option>' in form
    assert "080901 计算机科学与技术" in form and "050201 英语" not in form  # the record's college, in scope
    page = api.client.post(f"/console/records/{rec.id}/edit",
                           data={"csrf_token": api.csrf, "school.major_choice": "080901|软件工程"})
    assert page.status_code == 422 and "专业代码与专业不一致" in page.get_data(as_text=True)
    assert Record.get_by_id(rec.id).data == before
    moved = api.client.post(f"/console/records/{rec.id}/edit",
                            data={"csrf_token": api.csrf, "school.major_choice": "080901|计算机科学与技术"})
    assert moved.status_code == 302 and Record.get_by_id(rec.id).major_id == world.m1.id


def test_a_valid_pair_moves_the_record_to_that_major_inside_scope_only(app, world) -> None:
    rec = rv.submitted(world, world.m2)
    api = rv.login(app, "c1")
    r = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"school": {"major_code": "080901",
                                                                         "major": "计算机科学与技术"}}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["changed"]["school.major"] == ["软件工程", "计算机科学与技术"]
    stored = Record.get_by_id(rec.id)
    assert stored.major_id == world.m1.id and stored.data["school"]["major_code"] == "080901"
    assert {p.major_id for p in PendingTask.select().where(PendingTask.record == rec.id)} == {world.m1.id}
    # 英语 belongs to another college: not the record's, refused
    other = api.patch(f"/api/v1/records/{rec.id}", json={"data": {"school": {"major_code": "050201", "major": "英语"}}})
    assert other.status_code == 422 and other.get_json()["code"] == "major_mismatch"
    # a counselor granted only 080901 cannot move it to 080902
    narrow = rv.login(app, "m1only")
    out = narrow.patch(f"/api/v1/records/{rec.id}", json={"data": {"school": {"major_code": "080902", "major": "软件工程"}}})
    assert out.status_code == 422 and "不在您负责的专业范围" in out.get_json()["message"]
    assert Record.get_by_id(rec.id).major_id == world.m1.id


def test_add_with_a_mismatched_pair_is_refused(app, world) -> None:
    student = rv.roster_student(world, world.m2)
    report, _ = rv.report_for(world, world.m2)
    data = {"school": MISMATCH,
            "personal": {k: v for k, v in report["personal"].items() if k not in ("name", "gender", "id_type",
                                                                                 "id_number")},
            "other": report["other"]}
    api = rv.login(app, "c1")
    r = api.post("/api/v1/records", json={"student_no": student.student_no, "data": data})
    assert r.status_code == 422 and r.get_json()["code"] == "major_mismatch", r.get_json()
    assert "080901" in r.get_json()["message"] and "软件工程" in r.get_json()["message"]
    assert not Record.select().where(Record.student_no == student.student_no).exists()
    data["school"] = {"major_code": "080902", "major": "软件工程"}
    assert api.post("/api/v1/records", json={"student_no": student.student_no, "data": data}).status_code == 201


def test_student_save_and_submit_check_the_pair(world) -> None:
    rec = rv.unsubmitted(world, world.m2)  # no roster row: the school section is the student's to fill
    actor = Actor("stu", "student", world.school.code, record_id=rec.id)
    school = {k: v for k, v in rec.data["school"].items() if k not in ("school_code", "student_no")}
    with pytest.raises(InvalidInput) as refused:
        student_report.save_section(actor, "school", {**school, **MISMATCH})
    assert refused.value.code == "major_mismatch" and "080901" in refused.value.message
    assert Record.get_by_id(rec.id).data == rec.data
    # a stored mismatch (written before this check) is refused at submit
    full, _ = rv.report_for(world, world.m2)
    full["school"].update(student_no=rec.student_no, **MISMATCH)
    Record.update(data=full).where(Record.id == rec.id).execute()
    with pytest.raises(InvalidInput) as at_submit:
        student_report.submit(actor, student_report.get_settings())
    assert at_submit.value.code == "major_mismatch" and "软件工程" in at_submit.value.message
    assert Record.get_by_id(rec.id).submitted_at is None
    # the consistent pair saves
    saved = student_report.save_section(actor, "school", {**school, "major_code": "080902", "major": "软件工程"})
    assert saved["data"]["major_code"] == "080902"


def test_roster_row_contradicting_a_major_is_an_error_in_the_row_report(world) -> None:
    rows = [rf.student(1, **{"院系": "计算机科学与工程学院", "专业代码": "080901", "专业": "软件工程"}),
            rf.student(2, **{"院系": "计算机科学与工程学院", "专业代码": "080903", "专业": "网络工程"}),
            rf.student(4, **{"院系": "计算机科学与工程学院", "专业代码": "080999", "专业": "网络工程"}),
            rf.student(5, **{"院系": "计算机科学与工程学院", "专业代码": "080902", "专业": "软件工程"})]
    report = roster.import_roster(rf.xlsx_bytes(rows), "r.xlsx", school_code="10561", year=2021,
                                  actor=Actor("ops", ADMIN_ROLE, None))
    got = {r["row"]: r for r in report.rows}
    assert got[2]["outcome"] == "error"
    assert got[2]["errors"][0]["column"] == "专业代码"
    assert "080901 是“计算机科学与技术”（本校已有专业），不是“软件工程”" in got[2]["errors"][0]["message"]
    assert got[3]["outcome"] == "imported"
    assert got[4]["outcome"] == "error" and "“网络工程”的专业代码是 080903（第3行）" in got[4]["errors"][0]["message"]
    assert got[5]["outcome"] == "imported"
    assert not Major.select().where((Major.code == "080901") & (Major.name == "软件工程")).exists()
    assert not RosterStudent.select().where(RosterStudent.student_no == rows[0]["学号"]).exists()
