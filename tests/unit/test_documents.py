"""The document layer: the .xlsx export read back by real readers, and the sign-off PDF."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from service.documents import (
    CjkFontNotFound,
    export_xlsx_tempfile,
    find_cjk_font,
    load_columns,
    render_signoff_pdf,
    stream_file_chunks,
    write_records_xlsx,
)
from service.documents.columns import Column
from service.documents.fonts import check_font

LABELS: dict[str, dict[str, str]] = {
    "gender": {"1": "男", "2": "女"},
    "id_type": {"01": "居民身份证", "02": "港澳居民来往内地通行证"},
    "ethnicity": {"01": "汉族", "05": "维吾尔族"},
    "political": {"01": "中共党员", "03": "共青团员", "13": "群众"},
    "education_level": {"31": "本科生毕业", "41": "专科生毕业"},
    "training_mode": {"1": "非定向", "2": "定向"},
    "normal_type": {"2": "非师范生", "12": "公费师范生"},
    "hardship": {"0": "非困难生", "2": "家庭困难"},
    "urban_rural": {"1": "城镇", "2": "农村"},
    "region": {"440106": "广东省广州市天河区", "650102": "新疆维吾尔自治区乌鲁木齐市天山区", "810000": "香港特别行政区"},
}


def label_of(table: str, code: str) -> str | None:
    return LABELS[table].get(code)


def mask(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def base_record(**changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "school_code": "10559", "school_name": "暨南大学", "student_no": "2017052301",
        "college": "信息科学技术学院", "major": "计算机科学与技术", "major_code": "080901",
        "class_name": "计科1班", "exam_no": "17440106000123", "education_level": "31",
        "duration_years": 4.0, "enroll_date": "201709", "grad_date": "20210630", "training_mode": "1",
        "directed_unit": "", "normal_type": "2", "name": "陈晓明", "gender": "1", "id_type": "01",
        "id_number": "44010619990101123X", "ethnicity": "01", "political": "03",
        "origin_region": "440106", "urban_rural": "1", "hardship": "0", "hukou_moved": True,
        "archive_moved": False, "current_hukou_region": "440106", "phone": "013800138000",
        "email": "cxm@stu.example.cn", "home_address": "广东省广州市天河区黄埔大道西601号", "remark": "",
        "review_status": "二级待审", "report_status": "已提交", "last_comment": "",
    }
    rec.update(changes)
    return rec


RECORDS = [
    base_record(),
    base_record(  # 定向, 3.5 years, rural, hardship, XML-special and formula-like text
        student_no="2017052302", name="阿依古丽·买买提", gender="2", id_number="650102199902020026",
        ethnicity="05", origin_region="650102", current_hukou_region="650102", urban_rural="2",
        hardship="2", duration_years=3.5, training_mode="2", directed_unit="新疆维吾尔自治区教育厅",
        hukou_moved="0", archive_moved="1", remark="=SUM(A1:A2) & <b>重要</b>", political="01",
        review_status="不同意", last_comment="请核对生源所在地",
    ),
    base_record(  # 港澳 student: no 现户口所在地, unknown ethnicity code shows itself
        student_no="2017052303", name="黄家明", id_type="02", id_number="H12345678",
        origin_region="810000", current_hukou_region="", ethnicity="99", hukou_moved=None,
        archive_moved=None, phone="85291234567", normal_type="12", education_level="41",
        review_status="完成", report_status="已提交",
    ),
]


def expected_rows(records: list[dict[str, Any]], columns: list[Column]) -> list[list[str]]:
    """What every cell must read back as, derived from the column kinds."""
    bools = {True: "是", False: "否", "1": "是", "0": "否", None: ""}
    rows = []
    for rec in records:
        row = []
        for col in columns:
            raw = rec.get(col.field)
            if col.kind == "bool":
                row.append(bools[raw])
            elif col.kind == "label":
                row.append(LABELS[col.table].get(raw, raw) if raw else "")
            elif col.field == "id_number":
                row.append(mask(str(raw)))
            elif isinstance(raw, float):
                row.append(f"{raw:g}")
            else:
                row.append("" if raw is None else str(raw))
        rows.append(row)
    return rows


def read_openpyxl(path: Path) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    return [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]


def read_calamine(path: Path) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)


@pytest.fixture(scope="module")
def columns() -> list[Column]:
    return load_columns()


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    assert write_records_xlsx(path, iter(RECORDS), label_of, mask=mask) == len(RECORDS)
    return path


# --- column definition ------------------------------------------------------------------------


def test_column_file_follows_the_national_template(columns: list[Column]) -> None:
    headers = [c.header for c in columns]
    assert headers[:5] == ["考生号", "身份证号", "姓名", "性别代码", "性别"]
    assert headers[-3:] == ["审核状态", "上报状态", "审核意见"]
    assert len(headers) == len(set(headers))
    by_header = {c.header: c for c in columns}
    assert by_header["生源所在地代码"] == Column("生源所在地代码", "origin_region", "code", "region")
    assert by_header["户口是否迁入学校"].kind == "bool"


def test_column_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "cols.csv"
    bad.write_text("header,field,kind,table\n姓名,name,value,\n民族,ethnicity,label,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cols.csv:3: a table is required"):
        load_columns(bad)
    bad.write_text("header,field,kind,table\n姓名,nmae,value,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown field 'nmae'"):
        load_columns(bad)


# --- xlsx export ------------------------------------------------------------------------------


def test_export_reads_back_equal_with_openpyxl_and_calamine(export: Path, columns: list[Column]) -> None:
    want = [[c.header for c in columns], *expected_rows(RECORDS, columns)]
    assert read_openpyxl(export) == want
    assert read_calamine(export) == want


def test_export_spot_values(export: Path, columns: list[Column]) -> None:
    rows = read_calamine(export)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["身份证号"] == "4401**********123X"
    assert (first["性别代码"], first["性别"], first["民族代码"], first["民族"]) == ("1", "男", "01", "汉族")
    assert (first["生源所在地代码"], first["生源所在地"]) == ("440106", "广东省广州市天河区")
    assert (first["学制"], first["手机号码"], first["户口是否迁入学校"], first["档案是否转入学校"]) == (
        "4", "013800138000", "是", "否")
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["学制"], second["培养方式"], second["定向委培单位"]) == ("3.5", "定向", "新疆维吾尔自治区教育厅")
    assert second["备注"] == "=SUM(A1:A2) & <b>重要</b>"
    third = dict(zip(rows[0], rows[3], strict=True))
    assert (third["民族代码"], third["民族"], third["现户口所在地"], third["身份证号"]) == ("99", "99", "", "H123*5678")


def test_export_keeps_codes_as_text_and_freezes_the_header(export: Path) -> None:
    ws = openpyxl.load_workbook(export).worksheets[0]
    assert ws.title == "生源信息"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:AR4"
    assert ws["A1"].font.b
    for cell in ws[2]:
        if cell.value is not None:
            assert cell.data_type == "s" and cell.number_format == "@"
    assert ws["F2"].value == "10559" and ws["T2"].value == "01"


def test_masked_export_never_contains_the_full_id(export: Path) -> None:
    with zipfile.ZipFile(export) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    for rec in RECORDS:
        assert rec["id_number"] not in xml


def test_unmasked_export_has_the_full_id(tmp_path: Path) -> None:
    path = tmp_path / "full.xlsx"
    write_records_xlsx(path, RECORDS, label_of)
    assert [row[1] for row in read_calamine(path)[1:]] == [r["id_number"] for r in RECORDS]


def test_zero_records_give_a_valid_header_only_workbook(tmp_path: Path, columns: list[Column]) -> None:
    path = tmp_path / "empty.xlsx"
    assert write_records_xlsx(path, iter(()), label_of) == 0
    headers = [c.header for c in columns]
    assert read_openpyxl(path) == [headers]
    assert read_calamine(path) == [headers]


def test_export_streams_to_a_file_object_and_consumes_the_iterator_lazily(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    sizes: list[int] = []

    def records() -> Iterator[dict[str, Any]]:
        for i in range(6000):
            if i == 5999:
                sizes.append(path.stat().st_size)  # rows already on disk before the iterator ends
            yield base_record(student_no=f"S{i:06d}", name=f"学生{i}")

    with path.open("wb") as fh:
        assert write_records_xlsx(fh, records(), label_of, mask=mask) == 6000
    assert sizes[0] > 50_000
    rows = read_calamine(path)
    assert len(rows) == 6001 and rows[-1][28:30] == ["S005999", "信息科学技术学院"]


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    def records() -> Iterator[dict[str, Any]]:
        yield base_record()
        raise RuntimeError("cursor lost")

    path = tmp_path / "broken.xlsx"
    with pytest.raises(RuntimeError, match="cursor lost"):
        write_records_xlsx(path, records(), label_of)
    assert not path.exists()


def test_tempfile_export_streams_in_chunks_and_is_deleted(tmp_path: Path) -> None:
    path, n = export_xlsx_tempfile(RECORDS, label_of, mask=mask, directory=tmp_path)
    assert n == 3 and path.exists()
    data = path.read_bytes()
    chunks = list(stream_file_chunks(path, chunk_size=1024))
    assert b"".join(chunks) == data and all(len(c) == 1024 for c in chunks[:-1])
    assert not path.exists()
    assert read_calamine_bytes(data)[2][2] == "阿依古丽·买买提"


def read_calamine_bytes(data: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_stream_deletes_the_file_when_the_client_disconnects(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"x" * 10_000)
    gen = stream_file_chunks(path, chunk_size=100)
    next(gen)
    gen.close()  # what the WSGI server does when the client goes away
    assert not path.exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_export(export: Path, tmp_path: Path, columns: list[Column]) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(export)],
        check=True, capture_output=True, timeout=120,
    )
    with (tmp_path / "export.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [[c.header for c in columns], *expected_rows(RECORDS, columns)]


# --- sign-off PDF -----------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_signoff_pdf_has_one_a4_page_per_student_with_chinese_text() -> None:
    data = render_signoff_pdf(iter(RECORDS), label_of, school_name="暨南大学", mask=mask)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == len(RECORDS)
    assert [round(float(x)) for x in reader.pages[0].mediabox[2:]] == [595, 842]
    pages = pdf_pages(data)
    for text, rec in zip(pages, RECORDS, strict=True):
        for label in ("毕业生生源信息核对表", "暨南大学", "学校信息", "个人信息", "其他信息", "院校代码",
                      "考生号", "证件号码", "生源所在地", "户口是否迁入学校", "审核状态", "上报状态",
                      "学生签字", "辅导员签字", "日期", "学生签字核对"):
            assert label in text
        assert rec["name"] in text and rec["student_no"] in text
        assert mask(rec["id_number"]) in text and rec["id_number"] not in text
        assert rec["review_status"] in text
    assert "本科生毕业（31）" in pages[0] and "广东省广州市天河区（440106）" in pages[0]
    assert "新疆维吾尔自治区教育厅" in pages[1] and "请核对生源所在地" in pages[1]
    assert "港澳居民来往内地通行证（02）" in pages[2]
    assert "第 3 页 / 共 3 页" in pages[2]


def test_long_values_are_wrapped_never_cut() -> None:
    """Issue 10: a long address was cut with …, so the student signed something else than stored.
    Values now wrap; a sheet that overflows continues on a page marked （续）, signatures last."""
    long = base_record(home_address="广东省广州市天河区黄埔大道西601号暨南大学第二学生宿舍" * 6,
                       remark="备注内容很长" * 80, last_comment="请补充材料" * 40, email="a" * 90 + "@x.cn")
    lines = base_record(name="第二人", remark="第一行\r\n第二行")
    data = render_signoff_pdf([long, lines], label_of, school_name="暨南大学")
    pages = pdf_pages(data)
    first = "".join("".join(p.split()) for p in pages[:-1])  # the long sheet, line breaks removed
    assert "…" not in first
    for value in (long["home_address"], long["remark"], long["last_comment"], long["email"]):
        assert value in first
    assert "核对表（续）" in pages[1] and "学生签字" in pages[-2] and "学生签字" not in pages[0]
    assert "第二人" in pages[-1] and "（续）" not in pages[-1]
    assert "备注 第一行 第二行" in pages[-1]  # two lines in the box; pypdf joins them with a space


def test_a_300_character_address_is_printed_whole_on_one_page() -> None:
    address = ("广东省广州市天河区黄埔大道西601号暨南大学第二学生宿舍" * 12)[:300]
    pages = pdf_pages(render_signoff_pdf([base_record(home_address=address)], label_of, school_name="暨南大学"))
    assert len(pages) == 1
    assert address in "".join(pages[0].split()) and "…" not in pages[0] and "学生签字" in pages[0]


def test_no_records_give_one_page_that_says_so() -> None:
    pages = pdf_pages(render_signoff_pdf([], label_of, school_name="暨南大学", title="生源信息核对表"))
    assert len(pages) == 1 and "没有符合条件的生源信息" in pages[0] and "生源信息核对表" in pages[0]


def test_font_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    font = find_cjk_font()  # CI must install fonts-wqy-microhei: this failing says so
    assert check_font(font.path, font.index) is None
    monkeypatch.setenv("GRADFLOW_CJK_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(CjkFontNotFound, match="missing.ttf: no such file"):
        find_cjk_font()
    monkeypatch.setenv("GRADFLOW_CJK_FONT", str(font.path))
    assert find_cjk_font().path == font.path
    not_a_font = tmp_path / "x.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(CjkFontNotFound, match="cannot read font"):
        find_cjk_font(not_a_font)


@pytest.mark.parametrize("path", ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"])
def test_cff_fonts_are_refused(path: str) -> None:
    if not Path(path).exists():
        pytest.skip("Noto CJK not installed")
    assert "TrueType" in (check_font(path) or "")
