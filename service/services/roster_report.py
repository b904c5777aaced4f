"""The import report as an .xlsx workbook: a summary sheet and one line per roster row."""

from __future__ import annotations

import io

import xlsxwriter

from service.clock import beijing_text
from service.services.roster import OUTCOME_LABELS, ImportReport

DETAIL_HEADERS = ("行号", "学号", "姓名", "结果", "原因", "出错的列", "说明")


def report_xlsx(report: ImportReport) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("汇总")
    facts = [
        ("学校代码", report.school_code), ("毕业年份", report.year), ("文件", report.filename),
        ("导入人", report.actor), ("导入时间（北京时间）", beijing_text(report.created_at)), ("总行数", report.counts["total"]),
        *[(OUTCOME_LABELS[k], report.counts[k]) for k in OUTCOME_LABELS],
        ("新建院系", "、".join(report.created_colleges)), ("新建专业", "、".join(report.created_majors)),
        ("忽略的列", "、".join(report.ignored_columns)),
    ]
    for index, (label, value) in enumerate(facts):
        summary.write_string(index, 0, label, bold)
        if isinstance(value, int):
            summary.write_number(index, 1, value)
        else:
            summary.write_string(index, 1, str(value))
    summary.set_column(0, 0, 16)
    summary.set_column(1, 1, 60)

    detail = book.add_worksheet("明细")
    for col, header in enumerate(DETAIL_HEADERS):
        detail.write_string(0, col, header, bold)
    for line, row in enumerate(report.rows, start=1):
        errors = row.get("errors") or []
        detail.write_number(line, 0, row["row"])
        detail.write_string(line, 1, row.get("student_no", ""))
        detail.write_string(line, 2, row.get("name", ""))
        detail.write_string(line, 3, OUTCOME_LABELS.get(row["outcome"], row["outcome"]))
        detail.write_string(line, 4, row.get("reason", ""))
        detail.write_string(line, 5, "、".join(dict.fromkeys(e["column"] for e in errors if e["column"])))
        detail.write_string(line, 6, "；".join(f"{e['column']}：{e['message']}" if e["column"] else e["message"]
                                              for e in errors))
    detail.autofilter(0, 0, max(1, len(report.rows)), len(DETAIL_HEADERS) - 1)
    detail.freeze_panes(1, 0)
    detail.set_column(0, 0, 6)
    detail.set_column(1, 4, 16)
    detail.set_column(5, 6, 50)
    book.close()
    return buffer.getvalue()
