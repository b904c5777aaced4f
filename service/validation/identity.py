"""Identity document numbers: GB 11643-1999 resident IDs and the 港澳台 documents.

Students bind to their roster record by this number, so a typo must be caught here with a message
the student understands; an unknown region code only warns because IDs keep the region code of
birth registration, and many of those counties have since been merged or renamed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from service.codes import HMT_REGIONS, REGION, CodeRegistry, get_codes
from service.validation.text import normalise_code

ID_RESIDENT = "01"  # 居民身份证
ID_HM_PERMIT = "02"  # 港澳居民来往内地通行证
ID_TW_PERMIT = "03"  # 台湾居民来往大陆通行证
ID_HMT_RESIDENCE = "04"  # 港澳台居民居住证
# Documents whose number follows GB 11643 (birth date, sex digit, check character).
GB11643_TYPES = frozenset({ID_RESIDENT, ID_HMT_RESIDENCE})

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_GB11643 = re.compile(r"\d{17}[\dX]")
_HM_PERMIT = re.compile(r"[HM](\d{8}|\d{10})")
_TW_PERMIT = re.compile(r"\d{8}")
_EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass
class IdCheckResult:
    number: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: date | None = None
    gender: str | None = None  # "1" 男 / "2" 女, from the 17th character

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_id_number(number: str) -> str:
    """Students paste numbers with spaces, full-width digits and a lower-case x; one canonical form."""
    return normalise_code(number).upper()


def resident_id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """A well-formed 18-digit number (odd sequence = male), for tests and demo data."""
    if len(region) != 6 or not region.isdigit():
        raise ValueError("region must be 6 digits")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be 0..999")
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def mask_id_number(number: str) -> str:
    """Hide the middle for lists and logs: 440106********123X; short documents keep 2 + 2."""
    n = len(number)
    keep_head, keep_tail = (6, 4) if n >= 15 else (2, 2)
    if n <= keep_head + keep_tail:
        return "*" * n
    return number[:keep_head] + "*" * (n - keep_head - keep_tail) + number[-keep_tail:]


def gender_from_id(number: str) -> str | None:
    """'1' male / '2' female from the 17th digit of a GB 11643 number."""
    if len(number) != 18 or not number[16].isdigit():
        return None
    return "1" if int(number[16]) % 2 else "2"


def _parse_birth(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _check_gb11643(result: IdCheckResult, doc: str, codes: CodeRegistry, today: date) -> None:
    number = result.number
    if not _GB11643.fullmatch(number):
        result.errors.append(f"{doc}号码应为18位，前17位为数字，最后一位为数字或X")
        return
    birth = _parse_birth(number[6:14])
    if birth is None:
        result.errors.append(f"{doc}号码中的出生日期{number[6:14]}不是有效日期")
    elif birth > today:
        result.errors.append(f"{doc}号码中的出生日期{number[6:14]}晚于今天")
    elif birth < _EARLIEST_BIRTH:
        result.errors.append(f"{doc}号码中的出生日期{number[6:14]}早于1900年")
    else:
        result.birth_date = birth
    if resident_id_check_char(number[:17]) != number[17]:
        result.errors.append(f"{doc}号码校验位错误，请核对号码")
    result.gender = gender_from_id(number)
    region = number[:6]
    if region not in codes.table(REGION):
        result.warnings.append(f"{doc}号码前6位{region}不在现行行政区划代码表中，请核对号码")


def check_id_number(
    id_type: str,
    number: str,
    gender: str | None = None,
    *,
    codes: CodeRegistry | None = None,
    today: date | None = None,
) -> IdCheckResult:
    """Validate a document number for its type; `gender` ('1'/'2'), when given, must match the number."""
    result = IdCheckResult(number=normalise_id_number(number or ""))
    if not result.number:
        result.errors.append("请填写证件号码")
        return result
    codes = codes or get_codes()
    today = today or date.today()
    if id_type == ID_RESIDENT:
        if result.number[:6] in HMT_REGIONS:
            result.errors.append("以810000/820000/830000开头的是港澳台居民居住证号码，请将证件类型选为港澳台居民居住证")
            return result
        _check_gb11643(result, "身份证", codes, today)
    elif id_type == ID_HMT_RESIDENCE:
        if result.number[:6] not in HMT_REGIONS:
            result.errors.append("港澳台居民居住证号码应以810000、820000或830000开头")
            return result
        _check_gb11643(result, "居住证", codes, today)
    elif id_type == ID_HM_PERMIT:
        if not _HM_PERMIT.fullmatch(result.number):
            result.errors.append("港澳居民来往内地通行证号码应为H或M加8位数字（旧版为H或M加10位数字）")
    elif id_type == ID_TW_PERMIT:
        if not _TW_PERMIT.fullmatch(result.number):
            result.errors.append("台湾居民来往大陆通行证号码应为8位数字")
    else:
        result.errors.append("证件类型无效")
        return result
    if gender and result.gender and gender != result.gender and not result.errors:
        result.errors.append("性别与证件号码第17位不符")
    return result
