"""A small fixed history for the process analytics: five records of school 10561 moved through the
real process (transitions.start_instance / complete_task) at fixed Beijing times (service.clock.fixed),
two unbound roster students, and the school's deadline set through the deadline service.

Beijing times (October 2026; default BPMN 未提交 → 二级待审 → 中心待审 → 完成, 不通过 → 不同意 → 二级待审):

  all five created 10-01 09:00 (未提交)
  A  submit 10-01 10:00; coun1 approve 10-01 14:00; cent1 approve 10-02 10:00 → 完成
  B  submit 10-01 12:00; coun1 reject 10-02 12:00 "请核对生源地。"; resubmit 10-03 12:00;
     coun1 approve 10-03 18:00; cent1 approve 10-04 18:00 → 完成
  C  submit 10-02 09:00; coun1 approve 10-02 21:00; cent1 reject 10-03 07:00 "请核对 生源地！" → 不同意
     (10-03 07:00 Beijing is 10-02 23:00 UTC: the day must be Beijing's)
  D  submit 10-03 09:00; coun1 reject 10-04 09:00 "照片不清晰"; resubmit 10-04 21:00 → 二级待审
  E  never submitted (未提交), in the other college (外国语学院)

"Now" for the figures is 10-10 12:00 Beijing; the deadline 10-15 12:00 Beijing (five days later).
`build(settings, shift=timedelta(days=n))` moves every time by whole days (the browser test, whose
server runs on the real clock, ends the history on today's Beijing date instead of 10-10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service import clock
from service.db import write_transaction
from service.models import Record
from service.services.actors import Actor
from service.services.deadlines import store as deadline_store
from service.services.transitions import complete_task, start_instance
from tests.support import reviewing as rv

NOW = datetime(2026, 10, 10, 12, 0, tzinfo=clock.BEIJING)
DEADLINE = datetime(2026, 10, 15, 12, 0, tzinfo=clock.BEIJING)


def at(month_day: str, hh_mm: str) -> datetime:
    month, day = (int(x) for x in month_day.split("-"))
    hour, minute = (int(x) for x in hh_mm.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=clock.BEIJING)


@dataclass
class History:
    world: rv.World
    records: dict[str, Record]
    counselor: Actor
    centre: Actor


def shift_to_today() -> timedelta:
    """The whole-day shift that makes NOW's Beijing date today's."""
    return timedelta(days=(clock.beijing_date(clock.now()) - NOW.date()).days)


def build(settings, shift: timedelta = timedelta(0)) -> History:  # noqa: ANN001 - the Settings fixture
    w = rv.make_world()
    coun = Actor("coun1", "counselor", w.school.code)
    cent = Actor("cent1", "centre", w.school.code)
    rv.user("coun1", "counselor", w.school)
    rv.user("cent1", "centre", w.school)
    records: dict[str, Record] = {}
    with clock.fixed(at("10-01", "09:00") + shift):
        for key in "ABCDE":
            major = w.m3 if key == "E" else w.m1
            report, st = rv.report_for(w, major)
            p = report["personal"]
            with write_transaction():
                rec = Record.create(school=major.school, college=major.college, major=major, category=st.category,
                                    student_no=report["school"]["student_no"], name=p["name"],
                                    id_number=p["id_number"], origin_region=p["origin_region"], data=report)
                start_instance(rec, Actor("importer", "system", major.school_id))
            records[key] = rec

    def student(key: str) -> Actor:
        return Actor("stu" + key, "student", w.school.code, record_id=records[key].id)

    steps = [  # (record, when, who, decision, comment)
        ("A", "10-01 10:00", None, None, ""), ("B", "10-01 12:00", None, None, ""),
        ("A", "10-01 14:00", coun, "approve", ""), ("C", "10-02 09:00", None, None, ""),
        ("A", "10-02 10:00", cent, "approve", ""), ("B", "10-02 12:00", coun, "reject", "请核对生源地。"),
        ("C", "10-02 21:00", coun, "approve", ""), ("C", "10-03 07:00", cent, "reject", "请核对 生源地！"),
        ("D", "10-03 09:00", None, None, ""), ("B", "10-03 12:00", None, None, ""),
        ("B", "10-03 18:00", coun, "approve", ""), ("D", "10-04 09:00", coun, "reject", "照片不清晰"),
        ("B", "10-04 18:00", cent, "approve", ""), ("D", "10-04 21:00", None, None, ""),
    ]
    for key, when, who, decision, comment in steps:
        with clock.fixed(at(*when.split()) + shift):
            complete_task(records[key].id, who or student(key), decision=decision, comment=comment)
    rv.roster_student(w, w.m1)  # two eligible students who never bound: the total is 5 + 2 = 7
    rv.roster_student(w, w.m3)
    with clock.fixed(NOW + shift):
        deadline_store.set_deadline(cent, settings, deadline=DEADLINE + shift)
    return History(w, records, coun, cent)
