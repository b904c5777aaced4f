"""Issue 10 item 6: a reviewer searches by what the masked list shows of a 证件号码 (its last four)."""

from __future__ import annotations

from datetime import date

import pytest

from service.validation.identity import make_resident_id
from tests.support import reviewing as rv

GZ = "440106"


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_last_four_digits_and_the_masked_form_find_the_record_in_scope(app, db):
    w = rv.make_world()
    mine = rv.submitted(w, w.m1, id_number=make_resident_id(GZ, date(1999, 3, 4), 123))
    same_tail_other_college = rv.submitted(w, w.m3, id_number="440305" + "20000101" + mine.id_number[-4:])
    other_school = rv.submitted(w, w.other_major, id_number=make_resident_id(GZ, date(1998, 1, 2), 123))
    rv.user("c1", "counselor", w.school, colleges=(w.c1,))
    rv.user("centre", "centre", w.school)
    centre, counselor = rv.login(app, "centre"), rv.login(app, "c1")
    listed = centre.get("/api/v1/records").get_json()["items"]
    masked = next(r["id_number"] for r in listed if r["id"] == mine.id)
    assert "*" in masked and masked.endswith(mine.id_number[-4:])

    def ids(api, q):
        r = api.get("/api/v1/records", query_string={"q": q})
        assert r.status_code == 200, r.get_json()
        return {item["id"] for item in r.get_json()["items"]}

    tail = mine.id_number[-4:]
    assert ids(centre, tail) >= {mine.id}
    assert other_school.id not in ids(centre, tail)
    assert ids(counselor, tail) == {mine.id}  # the other college is out of the counselor's scope
    assert same_tail_other_college.id in ids(centre, tail)
    assert ids(centre, masked) == {mine.id}  # the masked form pasted from the list
    assert ids(centre, tail.lower()) >= {mine.id}
