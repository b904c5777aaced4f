"""Issue 13, lists at province size: gram search, flagged estimates, keyset pages, COPY seeding."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from benchmarks.seed_province import school_sizes, seed_province
from service.db import database, is_sqlite
from service.models import PendingTask, ProcessInstance, Record
from service.services import audit, records_query
from service.validation.identity import make_resident_id
from tests.support import reviewing as rv

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
GZ = "440106"


def _get(api, **query):
    r = api.get("/api/v1/records", query_string=query)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _ids(api, **query) -> set[int]:
    return {item["id"] for item in _get(api, **query)["items"]}


@BOTH_DATABASES
def test_name_fragments_of_one_two_and_three_characters_and_number_tails_find_records(app, db) -> None:
    w = rv.make_world()
    ouyang = rv.submitted(w, w.m1, name="欧阳明华", student_no="1700101",
                          id_number=make_resident_id(GZ, date(1999, 3, 4), 123))
    zhang = rv.submitted(w, w.m2, name="张明", student_no="1700102")
    li = rv.submitted(w, w.m3, name="李华明", student_no="1700203")
    percent = rv.submitted(w, w.m3, name="王%_五", student_no="1700204")
    other = rv.submitted(w, w.other_major, name="欧阳明华", student_no="1700101")
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    assert _ids(centre, q="明") == {ouyang.id, zhang.id, li.id}
    assert _ids(centre, q="阳明") == {ouyang.id}
    assert _ids(centre, q="欧阳明华") == {ouyang.id}  # grams 欧阳, 阳明, 明华 all needed
    assert _ids(centre, q="明华") == {ouyang.id}
    assert _ids(centre, q="华明") == {li.id}  # grams in order: 明华 does not match 华明
    assert _ids(centre, q="阳华") == set()  # both characters present, not adjacent
    assert _ids(centre, q="%_") == {percent.id}  # LIKE wildcards are literal
    assert _ids(centre, q="170010") == {ouyang.id, zhang.id}  # 学号 prefix
    assert _ids(centre, q=ouyang.id_number[-4:]) >= {ouyang.id}  # 证件号 tail, as the masked list shows
    assert other.id not in _ids(centre, q="欧阳")  # scope still applies
    if not is_sqlite():  # the clause matches the grams index (m0017): a province-wide search can use it
        sql, params = Record.select(Record.id).where(records_query.keyword_clause("阳明")).sql()
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            database.execute_sql(f"SET {setting} = off")  # a table this small would be read whole
        plan = "\n".join(r[0] for r in database.execute_sql(f"EXPLAIN {sql}", params).fetchall())
        database.execute_sql("RESET ALL")
        assert "Bitmap Index Scan on record_name_search_grams" in plan, plan


@BOTH_DATABASES
def test_a_renamed_record_is_found_by_its_new_name_and_a_step_keeps_it_findable(app, db) -> None:
    """On PostgreSQL the grams are a side table kept by triggers (m0017): a name edit must reach it,
    a review step (which rewrites the record row) must not lose it."""
    w = rv.make_world()
    rec = rv.submitted(w, w.m1, name="赵一鸣", student_no="1700301")
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    assert _ids(centre, q="一鸣") == {rec.id}
    Record.update(name="钱二多").where(Record.id == rec.id).execute()
    assert _ids(centre, q="一鸣") == set()
    assert _ids(centre, q="二多") == {rec.id}
    rv.user("counselor", "counselor", w.school)
    counselor = rv.login(app, "counselor")
    r = counselor.call("POST", f"/api/v1/records/{rec.id}/review", {"decision": "approve"})
    assert r.status_code == 200, r.get_json()
    assert _ids(centre, q="钱二") == {rec.id}
    if not is_sqlite():
        grams = database.execute_sql("SELECT grams FROM record_name_search WHERE record_id = %s",
                                     (rec.id,)).fetchone()[0]
        assert sorted(grams) == sorted({"钱", "二", "多", "钱二", "二多"})


@BOTH_DATABASES
def test_counts_are_exact_up_to_the_limit_and_flagged_estimates_beyond_it_on_postgresql(app, db) -> None:
    w = rv.make_world()
    for _ in range(5):
        rv.submitted(w, w.m1)
    rv.submitted(w, w.m3)
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    body = _get(centre)
    assert (body["total"], body["total_is_estimate"]) == (6, False)
    app.config["GRADFLOW"] = dataclasses.replace(app.config["GRADFLOW"], list_exact_count_limit=3)
    small = _get(centre, major=w.m3.id)
    assert (small["total"], small["total_is_estimate"]) == (1, False)  # under the limit: exact
    big = _get(centre, per_page=2)
    assert len(big["items"]) == 2
    if is_sqlite():
        assert (big["total"], big["total_is_estimate"]) == (6, False)  # SQLite always counts
    else:
        assert big["total_is_estimate"] is True and big["total"] >= 4  # never below what was seen exactly


def _walk(api, per_page: int, between=None, **query) -> list[int]:
    """Every id, following next_after; `between(i)` runs after page i (to insert rows meanwhile)."""
    seen: list[int] = []
    after = None
    for i in range(100):
        body = _get(api, per_page=per_page, **query, **({"after": after} if after else {}))
        assert body["page"] is None if after else body["page"] == 1
        seen += [item["id"] for item in body["items"]]
        after = body["next_after"]
        if after is None:
            return seen
        if between:
            between(i)
    raise AssertionError("the cursor never ended")


@BOTH_DATABASES
@pytest.mark.parametrize("sort", ["", "-updated_at", "name,-student_no", "college,-id", "-review_status"])
def test_keyset_pages_have_no_gaps_or_duplicates_while_records_are_added(app, db, sort: str) -> None:
    w = rv.make_world()
    existing = [rv.submitted(w, w.m1 if i % 2 else w.m3, student_no=f"17{i:05d}") for i in range(1, 12)]
    rv.approve(existing[0], "counselor")
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    by_offset = []
    for page in (1, 2, 3, 4):
        by_offset += [it["id"] for it in _get(centre, page=page, per_page=3, sort=sort)["items"]]
    assert _walk(centre, 3, sort=sort) == by_offset  # the cursor walks the same order as page numbers
    added: list[int] = []

    def insert(i: int) -> None:  # one before everything in 学号 order, one after
        added.append(rv.submitted(w, w.m2, student_no=f"16{i:05d}").id)
        added.append(rv.submitted(w, w.m2, student_no=f"18{i:05d}").id)

    seen = _walk(centre, 3, between=insert, sort=sort)
    assert len(seen) == len(set(seen)), "a record was listed twice"
    assert {r.id for r in existing} <= set(seen), "a record that was there all along was skipped"
    assert set(seen) <= {r.id for r in existing} | set(added)


@BOTH_DATABASES
def test_a_bad_or_foreign_cursor_is_a_422_in_chinese(app, db) -> None:
    w = rv.make_world()
    for _ in range(3):
        rv.submitted(w, w.m1)
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    cursor = _get(centre, per_page=1)["next_after"]
    assert cursor
    forged = records_query.encode_cursor("", ["x" * 65], 1)
    wrong_type = records_query.encode_cursor("college", ["not-a-number"], 1)
    for bad, sort in ((cursor, "name"), ("!!!", ""), ("e30", ""), (forged, ""), (wrong_type, "college"),
                      (records_query.encode_cursor("", ["1"], 2**31), ""),
                      (records_query.encode_cursor("-updated_at", ["yesterday"], 1), "-updated_at"),
                      (records_query.encode_cursor("college", [2**40], 1), "college"),
                      (records_query.encode_cursor("name", ["a\x00b"], 1), "name")):
        r = centre.get("/api/v1/records", query_string={"after": bad, "sort": sort})
        assert r.status_code == 422, (bad, r.status_code)
        assert "翻页游标无效" in str(r.get_json())
    page = centre.get("/console/?per_page=20&after=garbage")  # the console says so instead of failing
    assert page.status_code in (200, 422) and "翻页游标无效" in page.get_data(as_text=True)


def test_school_sizes_share_the_records_out() -> None:
    assert school_sizes(4, 1000, 400) == [400, 200, 200, 200]
    assert school_sizes(3, 101, 50) == [50, 26, 25]
    assert sum(school_sizes(160, 700_000, 20_000)) == 700_000
    assert school_sizes(1, 10, 20_000) == [10]


@BOTH_DATABASES
def test_seeded_province_has_verifiable_chains_status_copies_and_working_triggers(app, db) -> None:
    summaries = seed_province(3, 120, big_school=60)
    assert [s.school_code for s in summaries] == ["10561", "12001", "12002"]
    assert sum(s.records for s in summaries) == Record.select().count() > 100
    assert audit.verify().ok
    mismatched = (Record.select().join(ProcessInstance, on=(ProcessInstance.record == Record.id))
                  .where(ProcessInstance.status != records_query.REVIEW_STATUS).count())
    assert mismatched == 0
    waiting = PendingTask.select().where(PendingTask.role == "counselor").first()
    assert waiting is not None
    rv.approve(Record.get_by_id(waiting.record_id), "counselor")  # the status trigger is back on
    status = ProcessInstance.get(ProcessInstance.record == waiting.record_id).status
    copied = Record.select(records_query.REVIEW_STATUS).where(Record.id == waiting.record_id).scalar()
    assert copied == status != waiting.status
    rv.user("centre", "centre", _school("10561"))
    centre = rv.login(app, "centre")
    assert _get(centre)["total"] == summaries[0].records
    assert audit.verify().ok


def _school(code: str):
    from service.models import School

    return School.get_by_id(code)


@BOTH_DATABASES
def test_console_pager_follows_the_cursor_to_the_next_page(app, db) -> None:
    import re
    from html import unescape

    w = rv.make_world()
    records = [rv.unsubmitted(w, w.m1) for _ in range(23)]
    rv.user("centre", "centre", w.school)
    centre = rv.login(app, "centre")
    first = centre.get("/console/?per_page=20").get_data(as_text=True)
    assert "第 1 / 2 页" in first
    link = re.search(r'href="(\?[^"]*after=[^"]*)">下一页', first)
    assert link, "no cursor link to the next page"
    second = centre.get("/console/" + unescape(link.group(1))).get_data(as_text=True)
    assert "第 2 / 2 页" in second and "下一页" not in second
    def listed(html: str) -> set[int]:
        return {int(x) for x in re.findall(r'name="record_ids" value="(\d+)"', html)}

    assert len(listed(first)) == 20 and len(listed(second)) == 3
    assert listed(first) | listed(second) == {r.id for r in records}
