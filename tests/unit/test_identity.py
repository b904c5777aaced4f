"""Identity document numbers (GB 11643-1999 and the 港澳台 documents)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.validation.identity import (
    check_id_number,
    gender_from_id,
    make_resident_id,
    mask_id_number,
    resident_id_check_char,
)

BIRTH = date(2000, 5, 17)


def with_check_char(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def wrong_check_char(number: str) -> str:
    right = number[17]
    return number[:17] + ("0" if right != "0" else "1")


def id_ending_in_x(region: str = "440106") -> str:
    for seq in range(1000):
        number = make_resident_id(region, BIRTH, seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")


# The worked examples printed in GB 11643-1999 itself, independent of our implementation.
@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_check_char_matches_the_standards_examples(number: str) -> None:
    assert resident_id_check_char(number[:17]) == number[17]


def test_check_char_needs_17_digits() -> None:
    with pytest.raises(ValueError):
        resident_id_check_char("1234")
    with pytest.raises(ValueError):
        resident_id_check_char("1101051949123100X")


def test_make_resident_id_is_valid_and_carries_birth_and_gender() -> None:
    male = make_resident_id("440106", BIRTH, 123)
    female = make_resident_id("440106", BIRTH, 124)
    assert male.startswith("44010620000517123") and len(male) == 18
    for number, gender in ((male, "1"), (female, "2")):
        result = check_id_number("01", number)
        assert result.ok, result.errors
        assert result.warnings == []
        assert result.number == number
        assert result.birth_date == BIRTH
        assert result.gender == gender
        assert gender_from_id(number) == gender


def test_make_resident_id_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        make_resident_id("4401", BIRTH, 1)
    with pytest.raises(ValueError):
        make_resident_id("440106", BIRTH, 1000)


def test_lower_case_x_is_accepted_and_normalised() -> None:
    number = id_ending_in_x()
    result = check_id_number("01", number.lower())
    assert result.ok, result.errors
    assert result.number == number
    assert result.number.endswith("X")


def test_spaces_are_removed() -> None:
    number = make_resident_id("440106", BIRTH, 1)
    result = check_id_number("01", f" {number[:6]} {number[6:14]} {number[14:]} ")
    assert result.ok
    assert result.number == number


def test_wrong_check_char_is_an_error() -> None:
    number = wrong_check_char(make_resident_id("440106", BIRTH, 123))
    result = check_id_number("01", number)
    assert not result.ok
    assert any("校验位" in e for e in result.errors)


def test_x_where_a_digit_belongs_is_an_error() -> None:
    number = make_resident_id("440106", BIRTH, 1)
    if number.endswith("X"):
        number = make_resident_id("440106", BIRTH, 3)
    result = check_id_number("01", number[:17] + "X")
    assert any("校验位" in e for e in result.errors)


@pytest.mark.parametrize("birth", ["20210230", "20211301", "20210000", "19990229"])
def test_impossible_birth_date_is_an_error_even_with_a_right_check_char(birth: str) -> None:
    number = with_check_char(f"440106{birth}123")
    result = check_id_number("01", number)
    assert not result.ok
    assert result.errors == [f"身份证号码中的出生日期{birth}不是有效日期"]
    assert result.birth_date is None


def test_leap_day_is_a_real_date() -> None:
    assert check_id_number("01", with_check_char("44010620000229123")).ok


def test_future_birth_date_is_an_error() -> None:
    tomorrow = date.today() + timedelta(days=1)
    result = check_id_number("01", make_resident_id("440106", tomorrow, 1))
    assert any("晚于今天" in e for e in result.errors)


def test_birth_before_1900_is_an_error() -> None:
    result = check_id_number("01", make_resident_id("440106", date(1899, 12, 31), 1))
    assert any("1900" in e for e in result.errors)


def test_gender_must_match_the_17th_digit() -> None:
    male = make_resident_id("440106", BIRTH, 123)
    assert check_id_number("01", male, gender="1").ok
    result = check_id_number("01", male, gender="2")
    assert result.errors == ["性别与证件号码第17位不符"]
    female = make_resident_id("440106", BIRTH, 124)
    assert not check_id_number("01", female, gender="1").ok


@pytest.mark.parametrize("region", ["999999", "440181"])  # never existed / 番禺市, merged in 2000
def test_unknown_region_is_only_a_warning(region: str) -> None:
    result = check_id_number("01", make_resident_id(region, BIRTH, 123))
    assert result.ok
    assert result.errors == []
    assert len(result.warnings) == 1
    assert region in result.warnings[0]


@pytest.mark.parametrize(
    "number",
    ["44010620000517123", "4401062000051712345", "44010620000517A23X", "", "   "],
)
def test_malformed_resident_ids(number: str) -> None:
    assert not check_id_number("01", number).ok


def test_resident_id_with_hmt_prefix_points_to_the_residence_permit() -> None:
    number = make_resident_id("810000", BIRTH, 123)
    result = check_id_number("01", number)
    assert not result.ok
    assert "港澳台居民居住证" in result.errors[0]


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hmt_residence_permit(prefix: str) -> None:
    number = make_resident_id(prefix, BIRTH, 123)
    result = check_id_number("04", number, gender="1")
    assert result.ok, result.errors
    assert result.warnings == []
    assert result.birth_date == BIRTH
    assert not check_id_number("04", wrong_check_char(number)).ok
    assert not check_id_number("04", number, gender="2").ok


def test_hmt_residence_permit_needs_an_hmt_prefix() -> None:
    result = check_id_number("04", make_resident_id("440106", BIRTH, 123))
    assert result.errors == ["港澳台居民居住证号码应以810000、820000或830000开头"]


@pytest.mark.parametrize(
    ("number", "ok", "normalised"),
    [
        ("H12345678", True, "H12345678"),
        ("M87654321", True, "M87654321"),
        ("h12345678", True, "H12345678"),
        ("H1234567890", True, "H1234567890"),  # old 10-digit form
        ("H1234567", False, None),
        ("H123456789", False, None),
        ("X12345678", False, None),
        ("12345678", False, None),
    ],
)
def test_hong_kong_macau_permit(number: str, ok: bool, normalised: str | None) -> None:
    result = check_id_number("02", number)
    assert result.ok is ok
    if ok:
        assert result.number == normalised
        assert result.gender is None and result.birth_date is None


@pytest.mark.parametrize(
    ("number", "ok"),
    [("12345678", True), ("1234567", False), ("123456789", False), ("T1234567", False)],
)
def test_taiwan_permit(number: str, ok: bool) -> None:
    assert check_id_number("03", number).ok is ok


def test_unknown_document_type() -> None:
    result = check_id_number("09", make_resident_id("440106", BIRTH, 1))
    assert result.errors == ["证件类型无效"]


def test_mask_id_number() -> None:
    assert mask_id_number("44010620000517123X") == "440106********123X"
    assert mask_id_number("H12345678") == "H1*****78"
    assert mask_id_number("12345678") == "12****78"
    assert mask_id_number("1234") == "****"
