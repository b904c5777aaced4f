"""Hostile roster uploads: the work is bounded by what is read, refusals are 422 in Chinese, nothing written.

Timing and memory asserts here are generous safety bounds (the attacks cost minutes / gigabytes
before), not benchmarks.
"""

from __future__ import annotations

import dataclasses
import io
import time
import tracemalloc

import pytest

from service.config import Settings
from service.models import AuditEvent, RosterStudent
from service.models.roster_import import RosterImport
from tests.support import factories as f
from tests.support import hostile_files as hf
from tests.support import roster_files as rf
from tests.support.accounts import login, make_user


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, roster_max_cells=200_000)


@pytest.fixture
def centre(client, db) -> str:
    f.school()
    make_user("centre1", "centre", "10561")
    return login(client, "centre1", "10561")


def _upload(client, token: str, data: bytes, name: str = "r.xlsx"):
    started = time.perf_counter()
    response = client.post("/api/v1/roster/import", data={"file": (io.BytesIO(data), name), "year": "2021"},
                           headers={"X-CSRF-Token": token}, content_type="multipart/form-data")
    return response, time.perf_counter() - started


def _nothing_written() -> None:
    assert RosterStudent.select().count() == 0
    assert RosterImport.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "roster_import").count() == 0


def _refused(response, code: str) -> None:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    _nothing_written()


def test_declared_dimension_is_not_trusted(client, centre) -> None:
    # A few KB declaring A1:XFD1048576 with a cell in the last row: openpyxl's read-only sheet filled
    # a million 16,384-wide rows (17 billion cells, ~440 s of CPU).
    data = hf.with_extra_rows(hf.with_dimension(rf.xlsx_bytes([rf.student(1)]), "A1:XFD1048576"),
                              hf.plain_rows(1_048_576, 1))
    assert len(data) < 10_000
    response, seconds = _upload(client, centre, data)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["counts"] == {**response.get_json()["counts"], "imported": 1, "error": 1}
    assert response.get_json()["rows"][-1]["row"] == 1_048_576
    assert seconds < 10


def test_cells_in_column_xfd_cost_no_memory(client, centre) -> None:
    # One cell in column XFD per row made openpyxl build 16,384-wide rows: 2.6 GB per 168 KB uploaded.
    data = hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), hf.far_right_rows(3, 20_000))
    assert len(data) < 400_000
    tracemalloc.start()
    try:
        response, seconds = _upload(client, centre, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["counts"]["imported"] == 1  # the far-right cells are ignored
    assert peak < 150 * 1024 * 1024, peak
    assert seconds < 20  # tracemalloc slows Python down several times


def test_too_many_rows_is_refused(client, centre) -> None:
    data = hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), hf.plain_rows(3, 50_020))
    response, seconds = _upload(client, centre, data)
    _refused(response, "roster_too_large")
    assert "行数" in response.get_json()["message"] and "50,000" in response.get_json()["message"]
    assert seconds < 10


def test_too_many_cells_is_refused(client, centre) -> None:
    rows = (f'<row r="{n}">' + "".join(f'<c r="{col}{n}"/>' for col in ("A", "B", "C", "D", "E")) + "</row>"
            for n in range(3, 3 + 45_000))
    response, seconds = _upload(client, centre, hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), rows))
    _refused(response, "roster_too_large")
    assert "单元格数" in response.get_json()["message"]
    assert seconds < 10


def test_zip_bomb_is_refused_before_unpacking(client, centre) -> None:
    data = hf.bomb(64 * 1024 * 1024)  # 64 MiB of zeros in ~65 KB
    assert len(data) < 200_000
    response, seconds = _upload(client, centre, data)
    _refused(response, "roster_too_large")
    assert "压缩比" in response.get_json()["message"]
    assert seconds < 5


def test_unpacked_size_over_the_limit_is_refused(app, client, centre) -> None:
    app.config["GRADFLOW"] = dataclasses.replace(app.config["GRADFLOW"], roster_max_unpacked_bytes=100_000)
    data = hf.with_extra_rows(rf.xlsx_bytes([rf.student(1)]), hf.plain_rows(3, 3_000))
    response, _ = _upload(client, centre, data)
    _refused(response, "roster_too_large")


def test_truncated_sheet_xml_is_422(client, centre) -> None:
    data = hf.truncated_sheet(rf.xlsx_bytes([rf.student(n) for n in range(1, 30)]))
    response, _ = _upload(client, centre, data)
    _refused(response, "roster_unreadable")


def test_not_a_zip_is_422(client, centre) -> None:
    response, _ = _upload(client, centre, b"PK\x03\x04 this is no workbook")
    _refused(response, "roster_unreadable")



def test_csv_field_over_the_csv_module_limit_is_422(client, centre) -> None:
    # csv.Error "field larger than field limit (131072)" used to escape as a 500.
    text = ",".join(rf.HEADERS) + "\n" + '"' + "长" * 140_000 + '"' + ",x" * (len(rf.HEADERS) - 1) + "\n"
    response, _ = _upload(client, centre, text.encode("utf-8"), "r.csv")
    _refused(response, "roster_unreadable")
    assert "第 2 行" in response.get_json()["message"]


def test_csv_cell_too_long_for_a_roster_is_422(client, centre) -> None:
    row = rf.student(1, **{"姓名": "名" * 20_000})
    text = ",".join(rf.HEADERS) + "\n" + ",".join(str(row[h]) for h in rf.HEADERS) + "\n"
    response, _ = _upload(client, centre, text.encode("utf-8"), "r.csv")
    _refused(response, "roster_field_too_long")


def _csv_text(rows: list[dict]) -> str:
    return "\r\n".join([",".join(rf.HEADERS)] + [",".join(str(r[h]) for h in rf.HEADERS) for r in rows]) + "\r\n"


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_csv_with_nul_is_422_and_nothing_written(client, centre) -> None:
    # NUL reached the database: PostgreSQL refuses it in text ("A string literal cannot contain NUL").
    text = _csv_text([rf.student(1, **{"姓名": "张\x00三"}), rf.student(2)])
    response, _ = _upload(client, centre, text.encode("utf-8"), "r.csv")
    _refused(response, "roster_bad_character")
    assert "U+0000" in response.get_json()["message"] and "第 2 行" in response.get_json()["message"]


def test_utf16_csv_from_excel_is_read(client, centre) -> None:
    # Excel's "Unicode text": UTF-16 LE with BOM, tab separated; it used to decode as GB18030 with NULs.
    text = _csv_text([rf.student(1), rf.student(2)]).replace(",", "\t")
    response, _ = _upload(client, centre, "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"), "r.csv")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["counts"]["imported"] == 2


def test_csv_in_an_unknown_encoding_is_422(client, centre) -> None:
    data = _csv_text([rf.student(1)]).encode("utf-8") + b"\x80\xff\xfe\x81\xff"
    response, _ = _upload(client, centre, data, "r.csv")
    _refused(response, "roster_unreadable")
    assert "编码" in response.get_json()["message"]
