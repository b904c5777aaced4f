"""Roster import: per-row outcomes, re-import, formats, columns, HTTP upload and the .xlsx report."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from service.errors import InvalidInput, NotFound
from service.models import AuditEvent, College, Major, Record, RosterStudent
from service.services import roster
from service.services.actors import ADMIN_ROLE, Actor
from tests.support import factories as f
from tests.support import roster_files as rf
from tests.support.accounts import login, make_user

ADMIN = Actor(username="ops", role=ADMIN_ROLE, school_code=None)


def _mixed_roster() -> tuple[list[dict], dict[int, tuple[str, str]]]:
    """Rows and, per spreadsheet row number, the expected (outcome, reason or error column)."""
    rows: list[tuple[dict, str, str]] = [
        (rf.student(1), "imported", ""),
        (rf.student(2), "imported", ""),
        (rf.student(3, **{"学历": "本科生毕业", "培养方式": "2", "学制": "4.5", "入学年月": "2017-09",
                          "毕业日期": "2021-06-30"}), "imported", ""),
        (rf.hmt_student(4), "imported", ""),
        (rf.student(5, **{"学籍状态": "无学籍"}), "excluded", "无学籍"),
        (rf.student(6, **{"学籍状态": "旁听"}), "excluded", "旁听生"),
        (rf.student(7, **{"学习形式": "成人教育"}), "excluded", "成人教育"),
        (rf.student(8, **{"学习形式": "函授"}), "excluded", "函授"),
        (rf.student(9, **{"学习形式": "网络教育"}), "excluded", "网络教育"),
        (rf.student(10, **{"学习形式": "自学考试"}), "excluded", "自学考试"),
        (rf.student(11, **{"国籍": "美国", "学生类别": "内地"}), "excluded", "外籍"),
        (rf.student(12, **{"能否正常毕业": "否"}), "excluded", "不能正常毕业"),
        (rf.student(13, **{"毕业日期": "20220630"}), "excluded", "非本届毕业"),
        (rf.student(1, **{"姓名": "重复学号"}), "error", "学号"),  # same 学号 as the first row
        (rf.student(14, **{"证件号码": rf.student(2)["证件号码"], "性别": rf.student(2)["性别"]}), "error", "证件号码"),
        (rf.student(15, **{"证件号码": rf.student(15)["证件号码"][:17] + "0"
                           if rf.student(15)["证件号码"][17] != "0" else rf.student(15)["证件号码"][:17] + "1"}),
         "error", "证件号码"),  # wrong check digit
        (rf.student(16, **{"性别": "男"}), "error", "性别"),  # the ID says female
        (rf.student(17, **{"专业代码": "08090"}), "error", "专业代码"),
        (rf.student(18, **{"姓名": ""}), "error", "姓名"),
        (rf.student(19, **{"毕业日期": "2021-13-01"}), "error", "毕业日期"),
        (rf.student(20, **{"学籍状态": "退学"}), "error", "学籍状态"),
        (rf.student(21, **{"学历": "99"}), "error", "学历"),
        (rf.student(22, **{"学生类别": "内地", "证件类型": "02", "证件号码": "H12345678"}), "error", "证件类型"),
    ]
    expected = {index + 2: (outcome, detail) for index, (_, outcome, detail) in enumerate(rows)}
    return [r for r, _, _ in rows], expected


def _check(report: roster.ImportReport, expected: dict[int, tuple[str, str]]) -> None:
    got = {row["row"]: row for row in report.rows}
    assert set(got) == set(expected)
    for number, (outcome, detail) in expected.items():
        row = got[number]
        assert row["outcome"] == outcome, (number, row)
        if outcome == "excluded":
            assert row["reason"] == detail, (number, row)
        if outcome == "error":
            assert detail in [e["column"] for e in row["errors"]], (number, row)
            assert all(e["message"] for e in row["errors"])


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_mixed_roster_outcomes_then_reimport_changes_nothing(db) -> None:
    f.school()
    rows, expected = _mixed_roster()
    data = rf.xlsx_bytes(rows)

    first = roster.import_roster(data, "2021届学籍.xlsx", school_code="10561", year=2021, actor=ADMIN)
    _check(first, expected)
    assert first.counts == {"imported": 4, "updated": 0, "unchanged": 0, "excluded": 9, "error": 10, "total": 23}
    stored = {s.student_no: s for s in RosterStudent.select()}
    assert len(stored) == 13  # in-scope and excluded rows are kept, error rows are not
    assert stored["2017000001"].name == "学生1"  # the duplicate later row did not overwrite it
    assert stored["2017000013"].eligible is False and stored["2017000013"].exclusion_reason == "非本届毕业"
    third = stored["2017000003"]
    assert (third.fields["education_level"], third.fields["training_mode"], third.fields["duration_years"],
            third.fields["enroll_date"], third.fields["grad_date"]) == ("31", "2", 4.5, "201709", "20210630")
    assert stored["2017000004"].category == "hmt" and stored["2017000004"].id_type == "02"
    assert sorted(c.name for c in College.select()) == ["数学学院", "计算机学院"]
    assert Major.select().count() == 2
    assert Record.select().count() == 0  # records are created when students bind

    second = roster.import_roster(data, "2021届学籍.xlsx", school_code="10561", year=2021, actor=ADMIN)
    assert second.counts == {"imported": 0, "updated": 0, "unchanged": 13, "excluded": 0, "error": 10, "total": 23}
    assert [r["outcome"] for r in second.rows if expected[r["row"]][0] != "error"] == ["unchanged"] * 13

    events = list(AuditEvent.select().where(AuditEvent.chain_key == "school:10561").order_by(AuditEvent.seq))
    assert [e.action for e in events] == ["roster_import", "roster_import"]
    assert events[0].data_changed["counts"]["imported"] == 4


def test_changed_row_is_updated_and_bad_row_keeps_the_stored_one(db) -> None:
    f.school()
    rows = [rf.student(1), rf.student(2)]
    roster.import_roster(rf.xlsx_bytes(rows), "a.xlsx", school_code="10561", year=2021, actor=ADMIN)
    rows[0]["班级"] = "计科9班"
    rows[1]["证件号码"] = "123"
    report = roster.import_roster(rf.xlsx_bytes(rows), "a.xlsx", school_code="10561", year=2021, actor=ADMIN)
    assert [r["outcome"] for r in report.rows] == ["updated", "error"]
    assert RosterStudent.get(RosterStudent.student_no == "2017000001").class_name == "计科9班"
    assert RosterStudent.get(RosterStudent.student_no == "2017000002").id_number == rf.student(2)["证件号码"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_any_usual_encoding_with_free_column_order(db, encoding: str) -> None:
    f.school()
    headers = list(reversed(rf.HEADERS)) + ["备注（忽略）"]
    rows = [{**rf.student(1), "备注（忽略）": "x"}, rf.student(2)]
    report = roster.import_roster(rf.csv_bytes(rows, headers, encoding=encoding), "r.csv", school_code="10561",
                                  year=2021, actor=ADMIN)
    assert report.counts["imported"] == 2
    assert report.ignored_columns == ["备注（忽略）"]
    assert RosterStudent.get(RosterStudent.student_no == "2017000002").name == "学生2"


def test_title_rows_above_the_header_and_optional_columns_missing(db) -> None:
    f.school()
    headers = [h for h in rf.HEADERS if h not in ("考生号", "班级", "学制", "入学年月", "培养方式")]
    report = roster.import_roster(rf.xlsx_bytes([rf.student(1)], headers, title_rows=1), "r.xlsx",
                                  school_code="10561", year=2021, actor=ADMIN)
    assert report.counts["imported"] == 1 and report.rows[0]["row"] == 3


def test_missing_required_column_is_named(db) -> None:
    f.school()
    headers = [h for h in rf.HEADERS if h not in ("证件号码", "学籍状态")]
    with pytest.raises(InvalidInput) as caught:
        roster.import_roster(rf.xlsx_bytes([rf.student(1)], headers), "r.xlsx", school_code="10561", year=2021,
                             actor=ADMIN)
    assert "证件号码" in caught.value.message and "学籍状态" in caught.value.message
    assert caught.value.details == {"columns": ["证件号码", "学籍状态"]}


def test_unreadable_files_are_refused_cleanly(db) -> None:
    f.school()
    for data, name in ((b"not a zip", "r.xlsx"), (b"\x00\x01", "r.pdf"), (b"", "r.csv")):
        with pytest.raises(InvalidInput):
            roster.import_roster(data, name, school_code="10561", year=2021, actor=ADMIN)


def test_another_schools_centre_cannot_import(db) -> None:
    f.school()
    f.school("10562", "别的大学")
    other = Actor(username="c2", role="centre", school_code="10562")
    with pytest.raises(NotFound):
        roster.import_roster(rf.xlsx_bytes([rf.student(1)]), "r.xlsx", school_code="10561", year=2021, actor=other)


def test_upload_over_http_with_report_download(client, db) -> None:
    f.school()
    make_user("centre1", "centre", "10561")
    make_user("coun1", "counselor", "10561")
    rows, expected = _mixed_roster()
    data = rf.xlsx_bytes(rows)

    token = login(client, "coun1", "10561")
    refused = client.post("/api/v1/roster/import", data={"file": (io.BytesIO(data), "r.xlsx")},
                          headers={"X-CSRF-Token": token}, content_type="multipart/form-data")
    assert refused.status_code == 403
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token})

    token = login(client, "centre1", "10561")
    no_csrf = client.post("/api/v1/roster/import", data={"file": (io.BytesIO(data), "r.xlsx")},
                          content_type="multipart/form-data")
    assert no_csrf.status_code == 403 and no_csrf.get_json()["code"] == "csrf_failed"
    response = client.post("/api/v1/roster/import", data={"file": (io.BytesIO(data), "r.xlsx"), "year": "2021"},
                           headers={"X-CSRF-Token": token}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["counts"]["imported"] == 4 and body["counts"]["error"] == 10
    assert {r["row"]: r["outcome"] for r in body["rows"]} == {k: v[0] for k, v in expected.items()}

    missing = client.post("/api/v1/roster/import", data={}, headers={"X-CSRF-Token": token},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["details"] == {"file": ["必填"]}
    bad_columns = client.post(
        "/api/v1/roster/import", headers={"X-CSRF-Token": token}, content_type="multipart/form-data",
        data={"file": (io.BytesIO(rf.xlsx_bytes([rf.student(1)], rf.HEADERS[1:])), "r.xlsx")})
    assert bad_columns.status_code == 422 and bad_columns.get_json()["details"] == {"columns": ["学号"]}

    xlsx = client.get(f"/api/v1/roster/imports/{body['id']}/report.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    lines = list(book["明细"].iter_rows(values_only=True))
    assert lines[0][:4] == ("行号", "学号", "姓名", "结果")
    by_row = {line[0]: line for line in lines[1:]}
    assert by_row[2][3] == "新增" and by_row[6][4] == "无学籍" and by_row[15][3] == "错误"
    assert "学号与第2行重复" in by_row[15][6]
    assert client.get(f"/api/v1/roster/imports/{body['id']}").get_json()["counts"] == body["counts"]
    assert [i["id"] for i in client.get("/api/v1/roster/imports").get_json()["imports"]] == [body["id"]]
    assert client.get("/api/v1/roster/imports/999/report.xlsx").status_code == 404


def test_cli_imports_and_prints_the_report(db, settings, tmp_path, monkeypatch) -> None:
    from service.cli import main
    from service.config import get_settings

    f.school()
    rows, _ = _mixed_roster()
    path = tmp_path / "roster.xlsx"
    path.write_bytes(rf.xlsx_bytes(rows))
    monkeypatch.setenv("GRADFLOW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GRADFLOW_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["roster", "import", str(path), "--school", "10561", "--year", "2021",
                                           "--report", str(tmp_path / "report.xlsx")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "4 imported, 0 updated, 0 unchanged, 9 excluded, 10 errors" in result.output
    assert "旁听生" in result.output and "学号与第2行重复" in result.output
    assert load_workbook(tmp_path / "report.xlsx", read_only=True)["汇总"]["B6"].value == 23
