"""A province with two schools on different processes, for the province (省级) tests.

10561 runs the default two-level process (二级 → 中心), 10562 the three-level one (二级 → 一级 →
中心), activated for it alone. Records move through the real process; the province account
belongs to no school.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.models import Record
from service.services import processes
from service.services.actors import Actor
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import reviewing as rv

ADMIN = Actor("root", "admin", None)


@dataclass
class Province:
    world: rv.World
    complete: list[Record]  # every completed record, both schools


def make_province() -> Province:
    w = rv.make_world()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    processes.activate(str(three.id), actor=ADMIN, schools=["10562"])
    rv.user("sheng", "province", None)  # accounts.create_user(..., creator=None) is tested on its own
    rv.user("counselor", "counselor", w.school, colleges=(w.c1,))
    for name, role, school in (("centre", "centre", w.school), ("admin", "admin", None), ("student", "student", w.school)):
        rv.user(name, role, school)
    complete: list[Record] = []
    # 10561: 2 at 二级待审 (one in each college), 1 at 中心待审, 2 完成, 1 不同意, 1 未提交, 2 unbound
    rv.submitted(w, w.m1)
    rv.submitted(w, w.m3)
    rv.approve(rv.submitted(w, w.m1), "counselor")
    for major in (w.m1, w.m2):
        rec = rv.submitted(w, major)
        rv.approve(rec, "counselor")
        rv.approve(rec, "centre")
        complete.append(rec)
    rv.reject(rv.submitted(w, w.m2), "counselor", "请核对")
    rv.unsubmitted(w, w.m3)
    rv.roster_student(w, w.m1)
    rv.roster_student(w, w.m3)
    # 10562 (three levels): 1 at 二级待审, 1 at 一级待审, 1 完成
    rv.submitted(w, w.other_major)
    rv.approve(rv.submitted(w, w.other_major), "counselor")
    rec = rv.submitted(w, w.other_major)
    for role in ("counselor", "level1", "centre"):
        rv.approve(rec, role)
    complete.append(rec)
    return Province(w, complete)


def login_as(app, role: str) -> rv.Api:  # noqa: ANN001 - a Flask app
    """A client logged in as the province world's account for `role` ("anonymous": not logged in)."""
    if role == "anonymous":
        return rv.login(app, None)
    school = None if role in ("admin", "province") else "10561"
    return rv.login(app, {"province": "sheng"}.get(role, role), school)
