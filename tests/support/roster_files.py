"""Roster files (.xlsx / .csv) with the Chinese headers, built for tests and the import benchmark."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, datetime
from typing import Any

import xlsxwriter

from service.services.roster_read import COLUMNS
from service.validation.identity import make_resident_id

HEADERS = [header for header, _, _ in COLUMNS]
_seq = itertools.count(1)


def student(n: int | None = None, **overrides: Any) -> dict[str, Any]:
    """One in-scope roster row (mainland, 本科, 2021), keyed by header; overrides by header too."""
    n = next(_seq) if n is None else n
    male = n % 2 == 1
    row: dict[str, Any] = {
        "学号": f"2017{n:06d}",
        "姓名": f"学生{n}",
        "性别": "男" if male else "女",
        "证件类型": "居民身份证",
        "证件号码": make_resident_id("440106", date(1999, 1 + n % 12, 1 + n % 28), (n % 500) * 2 + (1 if male else 0)),
        "学生类别": "内地",
        "国籍": "中国",
        "考生号": f"17440106{n:06d}",
        "院系": "计算机学院" if n % 3 else "数学学院",
        "专业代码": "080901" if n % 3 else "070101",
        "专业": "计算机科学与技术" if n % 3 else "数学与应用数学",
        "班级": f"{'计科' if n % 3 else '数学'}{n % 4 + 1}班",
        "学历": "31",
        "学制": 4,
        "入学年月": "201709",
        "毕业日期": "20210630",
        "培养方式": "非定向",
        "学习形式": "普通全日制",
        "学籍状态": "在籍",
        "能否正常毕业": "是",
    }
    row.update(overrides)
    return row


def hmt_student(n: int, **overrides: Any) -> dict[str, Any]:
    """A 港澳 student with a 港澳居民来往内地通行证."""
    return student(n, **{"学生类别": "港澳台", "证件类型": "02", "证件号码": f"H{n:08d}", "国籍": "中国香港",
                         **overrides})


def xlsx_bytes(rows: list[dict[str, Any]], headers: list[str] | None = None, *, title_rows: int = 0) -> bytes:
    """A workbook (written like Excel: shared strings, dimension) whose first sheet holds the rows."""
    headers = headers or HEADERS
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("学籍")
    line = 0
    for _ in range(title_rows):
        sheet.write_string(line, 0, "2021届毕业生学籍名单")
        line += 1
    sheet.write_row(line, 0, headers)
    for row in rows:
        line += 1
        for col, header in enumerate(headers):
            value = row.get(header)
            if value is None:
                continue
            if isinstance(value, datetime | date):
                sheet.write_datetime(line, col, value, book.add_format({"num_format": "yyyy-mm-dd"}))
            else:
                sheet.write(line, col, value)
    book.close()
    return out.getvalue()


def csv_bytes(rows: list[dict[str, Any]], headers: list[str] | None = None, *, encoding: str = "utf-8-sig") -> bytes:
    headers = headers or HEADERS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in headers])
    return out.getvalue().encode(encoding)


_REGIONS = ("440106", "440103", "440104", "440105", "440111", "440112", "440113", "440114", "440115",
            "440117", "440118", "110101", "310101", "320102", "330102", "350102", "420102", "430102",
            "450102", "510104")


def big_roster(count: int) -> list[dict[str, Any]]:
    """`count` in-scope rows over 10 colleges and 60 majors, distinct 学号 and ID numbers."""
    rows = []
    for n in range(1, count + 1):
        college = n % 10
        major = n % 60
        birth = date(1998 + n % 3, 1 + n % 12, 1 + n % 28)
        rows.append(student(n, **{
            "证件号码": make_resident_id(_REGIONS[n // 1000 % len(_REGIONS)], birth, n % 1000),
            "性别": "男" if (n % 1000) % 2 else "女",
            "院系": f"学院{college:02d}",
            "专业代码": f"0809{major:02d}",
            "专业": f"专业{major:02d}",
        }))
    return rows
