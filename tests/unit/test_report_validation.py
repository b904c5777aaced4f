"""Report sections (学校 / 个人 / 其他): formats, rules, draft mode and the field metadata."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.codes import CodeRegistry, CodeRow, CodeTable, get_codes
from service.validation import (
    FIELD_CODE_TABLE,
    FIELD_LABELS,
    SECTION_FIELDS,
    OtherSectionSchema,
    PersonalSectionSchema,
    SchoolSectionSchema,
    make_resident_id,
    resident_id_check_char,
    validate_report,
    validate_section,
)

MALE_ID = make_resident_id("440106", date(2000, 5, 17), 123)
FEMALE_ID = make_resident_id("440106", date(2000, 5, 17), 124)


def school(**changes: Any) -> dict[str, Any]:
    data = {
        "school_code": "10558",
        "student_no": "17340001",
        "college": "数学学院",
        "major": "数学与应用数学",
        "major_code": "070101",
        "class_name": "数学1班",
        "exam_no": "17440106150123",
        "education_level": "31",
        "duration_years": 4,
        "enroll_date": "201709",
        "grad_date": "202106",
        "training_mode": "1",
        "normal_type": "2",
    }
    data.update(changes)
    return data


def personal(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "张三",
        "gender": "1",
        "id_type": "01",
        "id_number": MALE_ID,
        "ethnicity": "01",
        "political": "03",
        "origin_region": "440106",
        "urban_rural": "1",
        "hardship": "0",
    }
    data.update(changes)
    return data


def other(**changes: Any) -> dict[str, Any]:
    data = {
        "hukou_moved": True,
        "archive_moved": False,
        "current_hukou_region": "440106",
        "phone": "13800138000",
        "email": "zhangsan@example.com",
        "home_address": "广州市天河区五山路1号",
        "remark": "",
    }
    data.update(changes)
    return data


def hmt_personal(**changes: Any) -> dict[str, Any]:
    return personal(id_type="02", id_number="H12345678", origin_region="810000", **changes)


def hmt_other(**changes: Any) -> dict[str, Any]:
    data = other(phone="+852 9123 4567")
    del data["current_hukou_region"]
    data.update(changes)
    return data


def errors_of(section: str, data: dict[str, Any], category: str = "mainland", draft: bool = False) -> dict[str, list[str]]:
    return validate_section(section, data, category, draft=draft).errors


# --- the whole report ----------------------------------------------------------------------------


def test_a_complete_mainland_report_is_ok() -> None:
    outcome = validate_report({"school": school(), "personal": personal(), "other": other()}, "mainland")
    assert outcome.ok, outcome.errors
    assert outcome.errors == {}
    assert outcome.warnings == {}
    assert set(outcome.cleaned) == {"school", "personal", "other"}
    assert outcome.cleaned["school"]["duration_years"] == 4.0
    assert outcome.cleaned["other"]["remark"] is None  # blank means not filled in
    assert list(outcome.cleaned["personal"]) == SECTION_FIELDS["personal"]


def test_a_complete_hmt_report_is_ok() -> None:
    outcome = validate_report({"school": school(), "personal": hmt_personal(), "other": hmt_other()}, "hmt")
    assert outcome.ok, outcome.errors
    assert outcome.cleaned["other"]["current_hukou_region"] is None
    assert outcome.cleaned["other"]["phone"] == "+85291234567"


def test_cleaned_values_are_normalised() -> None:
    number = next(
        make_resident_id("440106", date(2000, 5, 17), s)
        for s in range(1, 1000, 2)
        if make_resident_id("440106", date(2000, 5, 17), s).endswith("X")
    )
    outcome = validate_report(
        {
            "school": school(major_code="070101tk", duration_years="4.5", student_no="  17340001 "),
            "personal": personal(id_number=number.lower()),
            "other": other(phone="+86 138-0013-8000", hukou_moved="是", archive_moved="否"),
        },
        "mainland",
    )
    assert outcome.ok, outcome.errors
    assert outcome.cleaned["school"]["major_code"] == "070101TK"
    assert outcome.cleaned["school"]["duration_years"] == 4.5
    assert outcome.cleaned["school"]["student_no"] == "17340001"
    assert outcome.cleaned["personal"]["id_number"] == number
    assert outcome.cleaned["other"]["phone"] == "13800138000"
    assert outcome.cleaned["other"]["hukou_moved"] is True
    assert outcome.cleaned["other"]["archive_moved"] is False


def test_an_empty_report_lists_every_required_field_by_path() -> None:
    outcome = validate_report({}, "mainland")
    assert not outcome.ok
    required = {
        "school": ["school_code", "student_no", "college", "major", "major_code", "education_level",
                   "duration_years", "enroll_date", "grad_date", "training_mode", "normal_type"],
        "personal": SECTION_FIELDS["personal"],
        "other": ["hukou_moved", "archive_moved", "current_hukou_region", "phone", "email", "home_address"],
    }
    expected = {f"{s}.{f}" for s, fields in required.items() for f in fields}
    assert set(outcome.errors) == expected
    assert outcome.errors["school.student_no"] == ["请填写学号"]
    assert outcome.errors["other.current_hukou_region"] == ["请填写现户口所在地"]


def test_an_empty_draft_is_fine() -> None:
    outcome = validate_report({}, "mainland", draft=True)
    assert outcome.ok
    assert outcome.warnings == {}


def test_report_that_is_not_an_object() -> None:
    assert validate_report([1, 2], "mainland").errors == {"report": ["数据格式不正确，应为包含学校、个人、其他三部分的对象"]}


def test_section_that_is_not_an_object() -> None:
    outcome = validate_report({"school": "x", "personal": personal(), "other": other()}, "mainland")
    assert list(outcome.errors) == ["school"]


def test_unknown_field_is_refused() -> None:
    assert errors_of("school", school(status="已提交")) == {"school.status": ["未知字段"]}
    assert errors_of("school", school(status="已提交"), draft=True) == {"school.status": ["未知字段"]}


def test_another_codes_version_can_be_passed_in() -> None:
    base = get_codes()
    tables = {name: base.table(name) for name in base.names()}
    tables["ethnicity"] = CodeTable("ethnicity", [CodeRow("01", "汉族")])
    older = CodeRegistry(tables)
    data = personal(ethnicity="02")
    assert validate_section("personal", data, "mainland", draft=False).ok
    outcome = validate_section("personal", data, "mainland", draft=False, codes=older)
    assert outcome.errors == {"personal.ethnicity": ["民族代码“02”无效"]}


def test_bad_section_or_category_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        validate_section("family", {}, "mainland", draft=True)
    with pytest.raises(ValueError):
        validate_section("school", {}, "foreign", draft=True)


# --- 学校 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["2", "4"])
def test_directed_unit_required_for_directed_and_commissioned(mode: str) -> None:
    assert errors_of("school", school(training_mode=mode)) == {
        "school.directed_unit": ["培养方式为定向或委培时必须填写定向委培单位"]
    }
    assert errors_of("school", school(training_mode=mode, directed_unit="广东省教育厅")) == {}


@pytest.mark.parametrize("mode", ["1", "3", "5"])
def test_directed_unit_must_be_empty_otherwise(mode: str) -> None:
    assert errors_of("school", school(training_mode=mode, directed_unit="某单位")) == {
        "school.directed_unit": ["培养方式不是定向或委培时，定向委培单位必须为空"]
    }
    assert errors_of("school", school(training_mode=mode, directed_unit="  ")) == {}


def test_directed_unit_in_a_draft() -> None:
    missing = validate_section("school", school(training_mode="2"), "mainland", draft=True)
    assert missing.ok and missing.warnings == {}
    extra = validate_section("school", school(training_mode="1", directed_unit="某单位"), "mainland", draft=True)
    assert extra.ok
    assert extra.warnings == {"school.directed_unit": ["培养方式不是定向或委培时，定向委培单位必须为空"]}
    assert extra.cleaned["directed_unit"] == "某单位"


@pytest.mark.parametrize(
    ("enroll", "grad", "ok"),
    [
        ("201709", "202106", True),
        ("201709", "20210630", True),
        ("202106", "202106", False),
        ("202106", "20210630", False),
        ("202109", "202106", False),
    ],
)
def test_enrolment_before_graduation(enroll: str, grad: str, ok: bool) -> None:
    errors = errors_of("school", school(enroll_date=enroll, grad_date=grad))
    assert (errors == {}) is ok
    if not ok:
        assert errors == {"school.enroll_date": ["入学年月必须早于毕业日期"]}
        draft = validate_section("school", school(enroll_date=enroll, grad_date=grad), "mainland", draft=True)
        assert draft.ok and "school.enroll_date" in draft.warnings


@pytest.mark.parametrize("value", ["2017-09", "201713", "201700", "20170901", "1709", 201709.5, True])
def test_enrol_date_format(value: Any) -> None:
    assert list(errors_of("school", school(enroll_date=value), draft=True)) == ["school.enroll_date"]


def test_enrol_date_may_be_a_number() -> None:
    assert errors_of("school", school(enroll_date=201709)) == {}


@pytest.mark.parametrize("value", ["20210230", "202113", "2021063", "2021-06-30", "abc"])
def test_grad_date_format(value: str) -> None:
    assert list(errors_of("school", school(grad_date=value), draft=True)) == ["school.grad_date"]


@pytest.mark.parametrize("value", [1.5, "2", 3, "4.5", 5.0, "9.5"])
def test_duration_in_half_years(value: Any) -> None:
    assert errors_of("school", school(duration_years=value)) == {}


@pytest.mark.parametrize("value", [1, 1.0, 10, "9.6", 4.3, "4.25", "四年", "NaN", True, None])
def test_duration_out_of_range_or_step(value: Any) -> None:
    errors = errors_of("school", school(duration_years=value))
    assert list(errors) == ["school.duration_years"]


@pytest.mark.parametrize(("field", "value"), [
    ("school_code", "1055"), ("school_code", "105580"), ("school_code", "1055A"),
    ("major_code", "07010"), ("major_code", "070101X"), ("major_code", "070101KT"),
    ("exam_no", "1744010615012"), ("exam_no", "174401061501234"),
    ("student_no", "1" * 33), ("student_no", ["17340001"]), ("college", {"name": "数学学院"}),
])
def test_school_field_formats(field: str, value: Any) -> None:
    assert list(errors_of("school", school(**{field: value}), draft=True)) == [f"school.{field}"]


@pytest.mark.parametrize("code", ["070101", "070101T", "070101K", "070101TK"])
def test_major_code_suffixes(code: str) -> None:
    assert errors_of("school", school(major_code=code)) == {}


def test_class_name_and_exam_no_are_optional() -> None:
    data = school()
    del data["class_name"], data["exam_no"]
    assert errors_of("school", data) == {}


# --- codes -----------------------------------------------------------------------------------------


CODED = [(f, s) for s, fields in SECTION_FIELDS.items() for f in fields if f in FIELD_CODE_TABLE]
BUILDERS = {"school": school, "personal": personal, "other": other}


@pytest.mark.parametrize(("field", "section"), CODED)
def test_every_code_must_be_in_its_table(field: str, section: str) -> None:
    data = BUILDERS[section](**{field: "99"})
    errors = errors_of(section, data, draft=True)
    assert list(errors) == [f"{section}.{field}"]
    assert errors[f"{section}.{field}"] == [f"{FIELD_LABELS[field]}代码“99”无效"]


@pytest.mark.parametrize(("field", "section"), CODED)
def test_every_code_in_its_table_is_accepted(field: str, section: str) -> None:
    table = get_codes().table(FIELD_CODE_TABLE[field])
    leaves = [r.code for r in table.rows if not table.has_children(r.code)]
    for code in leaves[:3] + leaves[-3:]:
        data = BUILDERS[section](**{field: code})
        errors = errors_of(section, data, draft=True)
        assert f"{section}.{field}" not in errors, (code, errors)


@pytest.mark.parametrize("field", ["origin_region", "current_hukou_region"])
@pytest.mark.parametrize(("code", "ok"), [
    ("440106", True), ("441900", True), ("469001", True), ("810000", True), ("820000", True),
    ("830000", True), ("440100", False), ("440000", False), ("440199", False), ("4401", False),
])
def test_regions_must_be_county_level(field: str, code: str, ok: bool) -> None:
    section = "personal" if field == "origin_region" else "other"
    errors = errors_of(section, BUILDERS[section](**{field: code}), draft=True)
    assert (f"{section}.{field}" not in errors) is ok


# --- 个人 ----------------------------------------------------------------------------------------


def test_id_number_with_a_wrong_check_char_is_an_error_even_in_a_draft() -> None:
    bad = MALE_ID[:17] + ("0" if MALE_ID[17] != "0" else "1")
    for draft in (False, True):
        errors = errors_of("personal", personal(id_number=bad), draft=draft)
        assert list(errors) == ["personal.id_number"]
        assert "校验位" in errors["personal.id_number"][0]


def test_id_number_with_an_impossible_birth_date() -> None:
    first17 = "44010620210230123"
    errors = errors_of("personal", personal(id_number=first17 + resident_id_check_char(first17)))
    assert errors == {"personal.id_number": ["身份证号码中的出生日期20210230不是有效日期"]}


def test_gender_must_agree_with_the_17th_digit() -> None:
    assert errors_of("personal", personal(gender="2", id_number=FEMALE_ID)) == {}
    assert errors_of("personal", personal(gender="2", id_number=MALE_ID)) == {
        "personal.gender": ["性别与证件号码第17位不符（奇数为男，偶数为女）"]
    }
    assert errors_of("personal", personal(gender="1", id_number=FEMALE_ID)) != {}
    draft = validate_section("personal", personal(gender="2", id_number=MALE_ID), "mainland", draft=True)
    assert draft.ok
    assert list(draft.warnings) == ["personal.gender"]


def test_unknown_id_region_is_a_warning_only() -> None:
    number = make_resident_id("440181", date(2000, 5, 17), 123)  # 番禺市, merged into 广州 in 2000
    outcome = validate_section("personal", personal(id_number=number), "mainland", draft=False)
    assert outcome.ok
    assert list(outcome.warnings) == ["personal.id_number"]
    assert "440181" in outcome.warnings["personal.id_number"][0]


def test_lower_case_x_in_the_id_number_is_accepted() -> None:
    number = next(
        n for n in (make_resident_id("440106", date(2000, 5, 17), s) for s in range(1, 1000, 2)) if n.endswith("X")
    )
    outcome = validate_section("personal", personal(id_number=number.lower()), "mainland", draft=False)
    assert outcome.ok, outcome.errors
    assert outcome.cleaned["id_number"] == number


def test_mainland_students_use_the_resident_id() -> None:
    errors = errors_of("personal", hmt_personal(), "mainland")
    assert errors == {"personal.id_type": ["中国内地学生的证件类型应为居民身份证"]}


def test_hmt_students_do_not_use_the_resident_id() -> None:
    assert list(errors_of("personal", personal(), "hmt")) == ["personal.id_type"]


@pytest.mark.parametrize(("id_type", "number"), [
    ("02", "M12345678"), ("02", "H1234567890"), ("03", "12345678"),
    ("04", make_resident_id("830000", date(2000, 5, 17), 123)),
])
def test_hmt_documents(id_type: str, number: str) -> None:
    assert errors_of("personal", personal(id_type=id_type, id_number=number), "hmt") == {}


@pytest.mark.parametrize(("id_type", "number"), [
    ("02", "H123456"), ("03", "1234567"), ("04", make_resident_id("440106", date(2000, 5, 17), 123)),
    ("04", make_resident_id("830000", date(2000, 5, 17), 123)[:17] + "Z"),
])
def test_malformed_hmt_documents(id_type: str, number: str) -> None:
    assert list(errors_of("personal", personal(id_type=id_type, id_number=number), "hmt")) == ["personal.id_number"]


def test_residence_permit_gender_is_checked() -> None:
    permit = make_resident_id("810000", date(2000, 5, 17), 124)  # female
    errors = errors_of("personal", personal(id_type="04", id_number=permit, gender="1"), "hmt")
    assert list(errors) == ["personal.gender"]


def test_name_length() -> None:
    assert list(errors_of("personal", personal(name="张" * 51))) == ["personal.name"]
    assert errors_of("personal", personal(name="阿依古丽·买买提")) == {}


# --- 其他 ----------------------------------------------------------------------------------------


def test_hmt_students_have_no_current_hukou_region() -> None:
    errors = errors_of("other", other(phone="91234567"), "hmt")
    assert errors == {"other.current_hukou_region": ["港澳台学生不填写现户口所在地"]}
    draft = validate_section("other", other(phone="91234567"), "hmt", draft=True)
    assert draft.ok and list(draft.warnings) == ["other.current_hukou_region"]
    assert errors_of("other", hmt_other(current_hukou_region=""), "hmt") == {}


def test_mainland_students_need_a_current_hukou_region() -> None:
    data = other()
    del data["current_hukou_region"]
    assert errors_of("other", data) == {"other.current_hukou_region": ["请填写现户口所在地"]}
    assert validate_section("other", data, "mainland", draft=True).warnings == {}


@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "+8613800138000", "138 0013 8000"])
def test_mainland_mobile_numbers(phone: str) -> None:
    assert errors_of("other", other(phone=phone)) == {}
    assert errors_of("other", hmt_other(phone=phone), "hmt") == {}


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "138001380001", "23800138000", "abc", "0912345678X"])
def test_malformed_phone_numbers(phone: str) -> None:
    for category, data in (("mainland", other(phone=phone)), ("hmt", hmt_other(phone=phone))):
        assert list(errors_of("other", data, category, draft=True)) == ["other.phone"]


@pytest.mark.parametrize(
    "phone",
    ["91234567", "+852 9123 4567", "+85291234567", "66123456", "+853 6612 3456", "0912345678",
     "+886 912 345 678", "+886-0912-345-678"],
)
def test_hmt_numbers_for_hmt_students_only(phone: str) -> None:
    assert errors_of("other", hmt_other(phone=phone), "hmt") == {}
    assert errors_of("other", other(phone=phone), "mainland") == {
        "other.phone": ["中国内地学生请填写11位内地手机号码"]
    }
    draft = validate_section("other", other(phone=phone), "mainland", draft=True)
    assert draft.ok and list(draft.warnings) == ["other.phone"]


@pytest.mark.parametrize("phone", ["0812345678", "+886812345678", "+8529123456", "+85412345678"])
def test_malformed_hmt_numbers(phone: str) -> None:
    assert list(errors_of("other", hmt_other(phone=phone), "hmt")) == ["other.phone"]


@pytest.mark.parametrize("email", ["zhangsan@example.com", "a.b+c@mail.scut.edu.cn", "X_Y@qq.com"])
def test_good_email(email: str) -> None:
    assert errors_of("other", other(email=email)) == {}


@pytest.mark.parametrize("email", ["zhangsan", "zhangsan@", "@example.com", "a@b", "a b@example.com", "a@@b.com"])
def test_bad_email(email: str) -> None:
    assert errors_of("other", other(email=email), draft=True) == {"other.email": ["电子邮箱格式不正确"]}


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_yes_no_fields(value: Any) -> None:
    assert list(errors_of("other", other(hukou_moved=value), draft=True)) == ["other.hukou_moved"]


# --- metadata ----------------------------------------------------------------------------------------


def test_section_fields_match_the_schemas_in_form_order() -> None:
    schemas = {"school": SchoolSectionSchema, "personal": PersonalSectionSchema, "other": OtherSectionSchema}
    for section, schema in schemas.items():
        assert list(schema().fields) == SECTION_FIELDS[section]


def test_every_field_has_a_chinese_label() -> None:
    all_fields = [f for fields in SECTION_FIELDS.values() for f in fields]
    assert len(all_fields) == len(set(all_fields))
    assert set(FIELD_LABELS) == set(all_fields)
    assert FIELD_LABELS["student_no"] == "学号"
    assert FIELD_LABELS["current_hukou_region"] == "现户口所在地"


def test_code_table_names_exist() -> None:
    names = set(get_codes().names())
    assert set(FIELD_CODE_TABLE.values()) <= names
    assert FIELD_CODE_TABLE["origin_region"] == "region"
