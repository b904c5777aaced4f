"""The import report lists every error of a row, not only the first (issue 10's smaller defects):
both in the per-row result and in the downloadable .xlsx report (read back with openpyxl)."""

from __future__ import annotations

import io

import openpyxl

from service.services import roster
from service.services.actors import ADMIN_ROLE, Actor
from service.services.roster_report import report_xlsx
from tests.support import factories as f
from tests.support import roster_files as rf

ADMIN = Actor(username="ops", role=ADMIN_ROLE, school_code=None)


def test_a_row_with_three_mistakes_reports_all_three(db) -> None:
    f.school()
    bad = rf.student(7, 性别="未知", 证件号码="12345", 学生类别="火星")
    report = roster.import_roster(rf.xlsx_bytes([bad, rf.student(8)]), "r.xlsx", school_code="10561", year=2021,
                                  actor=ADMIN)
    row = next(r for r in report.rows if r["errors"])
    columns = {e["column"] for e in row["errors"]}
    assert {"性别", "证件号码", "学生类别"} <= columns, row["errors"]
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)), read_only=True)
    cells = [str(c) for sheet in book.worksheets for line in sheet.iter_rows(values_only=True) for c in line if c]
    joined = "\n".join(cells)
    assert all(col in joined for col in ("性别：", "证件号码：", "学生类别："))
