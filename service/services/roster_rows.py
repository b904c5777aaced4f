"""One roster row: normalise its cells, decide whether the student is in scope, or say what is wrong.

Cells come from spreadsheets, so numbers arrive as floats (2017301 → 2017301.0), dates as
datetimes, codes either as codes ("1") or labels ("男"). Everything is normalised to the codes and
formats the report uses, so binding can copy roster values straight into the record.

Scope (the notice's 报送范围): formal 学籍 (在籍 or 休学), ordinary full-time study, Chinese
nationality (港澳台 included), expected to graduate, graduating in the import's year.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from service.codes import CodeRegistry
from service.services.roster_read import HEADER_OF
from service.validation.identity import ID_RESIDENT, check_id_number, normalise_id_number

MAINLAND, HMT = "mainland", "hmt"
CATEGORY_VALUES = {
    "内地": MAINLAND, "中国内地": MAINLAND, "中国内地学生": MAINLAND, "大陆": MAINLAND, "MAINLAND": MAINLAND,
    "港澳台": HMT, "港澳台学生": HMT, "香港": HMT, "澳门": HMT, "台湾": HMT, "HMT": HMT,
}
ELIGIBLE_STATUS = {"在籍", "休学"}
EXCLUDED_STATUS = {"无学籍": "无学籍", "旁听": "旁听生", "旁听生": "旁听生"}
REGULAR_FORMS = {"普通全日制", "全日制", "普通"}
EXCLUDED_FORMS = {"成人教育": "成人教育", "成教": "成人教育", "函授": "函授", "函授教育": "函授",
                  "网络教育": "网络教育", "网络": "网络教育", "远程教育": "网络教育",
                  "自学考试": "自学考试", "自考": "自学考试"}
CHINESE_NATIONALITY = {"", "中国", "中华人民共和国", "中国香港", "中国澳门", "中国台湾", "香港", "澳门", "台湾",
                       "CHN", "CHINA", "156"}
YES = {"是", "能", "Y", "YES", "1", "TRUE"}
NO = {"否", "不能", "N", "NO", "0", "FALSE"}
ID_TYPE_ALIASES = {"身份证": "01", "港澳通行证": "02", "台胞证": "03", "居住证": "04"}
MAJOR_CODE = re.compile(r"\d{6}(T|K|TK)?")
EXAM_NO = re.compile(r"[0-9A-Z]{14}")
# Fields of RosterStudent.fields that the report's school section takes over.
REPORT_FIELDS = ("major_code", "education_level", "duration_years", "enroll_date", "grad_date", "training_mode")


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    exclusion: str = ""

    @property
    def student_no(self) -> str:
        return str(self.values.get("student_no", ""))

    @property
    def name(self) -> str:
        return str(self.values.get("name", ""))

    def error(self, key: str, message: str) -> None:
        self.errors.append((HEADER_OF.get(key, key), message))


def text(value: Any) -> str:
    """A cell as trimmed text; integral floats lose their '.0'; full-width characters folded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return unicodedata.normalize("NFKC", str(value)).strip()


def compact(value: Any) -> str:
    """Text without any whitespace (numbers, codes)."""
    return "".join(text(value).split())


def _code(row: ParsedRow, key: str, table: str, raw: Any, codes: CodeRegistry, *, required: bool,
          aliases: dict[str, str] | None = None) -> str:
    value = compact(raw)
    if not value:
        if required:
            row.error(key, f"请填写{HEADER_OF[key]}")
        return ""
    found = codes.table(table)
    if value in found:
        return value
    if value.isdigit() and value.zfill(2) in found:  # Excel drops the leading zero of "01"
        return value.zfill(2)
    by_label = next((r.code for r in found.rows if r.label == value), None) or (aliases or {}).get(value)
    if by_label is None:
        choices = "、".join(f"{r.code} {r.label}" for r in found.rows[:12])
        row.error(key, f"“{value}”不是有效的{HEADER_OF[key]}（可填代码或名称：{choices}）")
        return ""
    return by_label


def _month(row: ParsedRow, key: str, raw: Any, *, with_day: bool, required: bool) -> str:
    """YYYYMM (or YYYYMMDD when with_day and given); accepts dates and 2021-06-30 / 2021.6 forms."""
    if isinstance(raw, datetime | date):
        d = raw.date() if isinstance(raw, datetime) else raw
        return d.strftime("%Y%m%d" if with_day else "%Y%m")
    value = compact(raw)
    if not value:
        if required:
            row.error(key, f"请填写{HEADER_OF[key]}")
        return ""
    parts = re.split(r"[-./年月日]", value)
    parts = [p for p in parts if p]
    if len(parts) >= 2 and all(p.isdigit() for p in parts):
        value = parts[0] + parts[1].zfill(2) + (parts[2].zfill(2) if len(parts) > 2 else "")
    allowed = (6, 8) if with_day else (6,)
    if len(value) == 8 and not with_day:
        value = value[:6]
    ok = value.isdigit() and len(value) in allowed and 1900 <= int(value[:4]) <= 2100
    if ok:
        try:
            date(int(value[:4]), int(value[4:6]), int(value[6:8] or 1))
        except ValueError:
            ok = False
    if not ok:
        example = "20210630 或 202106" if with_day else "201709"
        row.error(key, f"{HEADER_OF[key]}“{text(raw)}”格式不正确，应如 {example}")
        return ""
    return value


def _duration(row: ParsedRow, raw: Any) -> float | None:
    value = compact(raw).removesuffix("年")
    if not value:
        return None
    try:
        years = Decimal(value)
    except InvalidOperation:
        years = Decimal(-1)
    if not years.is_finite() or not Decimal("1.5") <= years <= Decimal("9.5") or (years * 2) % 1:
        row.error("duration_years", f"学制“{text(raw)}”应在1.5至9.5年之间，以0.5年为单位")
        return None
    return float(years)


def _eligibility(row: ParsedRow, raw: dict[str, Any], year: int) -> None:
    """Set row.exclusion, or errors for values that say nothing about scope."""
    status = compact(raw.get("enrollment_status"))
    form = compact(raw.get("study_form"))
    nationality = compact(raw.get("nationality")).upper()
    graduates = compact(raw.get("can_graduate")).upper()
    row.values.update(enrollment_status=status, study_form=form, nationality=compact(raw.get("nationality")),
                      can_graduate=graduates)
    if status not in ELIGIBLE_STATUS and status not in EXCLUDED_STATUS:
        row.error("enrollment_status", f"学籍状态“{status}”无效，应为 在籍、休学、无学籍 或 旁听")
    if form not in REGULAR_FORMS and form not in EXCLUDED_FORMS:
        row.error("study_form", f"学习形式“{form}”无效，应为 普通全日制、成人教育、函授、网络教育 或 自学考试")
    if graduates not in YES and graduates not in NO:
        row.error("can_graduate", f"能否正常毕业“{graduates}”无效，应为 是 或 否")
    grad = _month(row, "grad_date", raw.get("grad_date"), with_day=True, required=True)
    row.values["grad_date"] = grad
    if row.errors:
        return
    if status in EXCLUDED_STATUS:
        row.exclusion = EXCLUDED_STATUS[status]
    elif form in EXCLUDED_FORMS:
        row.exclusion = EXCLUDED_FORMS[form]
    elif nationality not in CHINESE_NATIONALITY:
        row.exclusion = "外籍"
    elif graduates in NO:
        row.exclusion = "不能正常毕业"
    elif int(grad[:4]) != year:
        row.exclusion = "非本届毕业"


def parse_row(number: int, raw: dict[str, Any], year: int, codes: CodeRegistry) -> ParsedRow:
    """Normalise one row. Excluded rows keep what could be read; errors are only kept for rows in scope."""
    row = ParsedRow(number)
    v = row.values
    v["student_no"] = compact(raw.get("student_no"))
    v["name"] = " ".join(text(raw.get("name")).split())
    if not v["student_no"]:
        row.error("student_no", "请填写学号")
    elif len(v["student_no"]) > 32:
        row.error("student_no", "学号不能超过32个字符")
    if not v["name"]:
        row.error("name", "请填写姓名")
    elif len(v["name"]) > 50:
        row.error("name", "姓名不能超过50个字符")
    if row.errors:
        return row
    _eligibility(row, raw, year)
    if row.errors:
        return row

    v["gender"] = _code(row, "gender", "gender", raw.get("gender"), codes, required=True)
    v["id_type"] = _code(row, "id_type", "id_type", raw.get("id_type"), codes, required=True,
                         aliases=ID_TYPE_ALIASES)
    v["id_number"] = normalise_id_number(text(raw.get("id_number")))
    category = CATEGORY_VALUES.get(compact(raw.get("category")).upper())
    if category is None:
        row.error("category", f"学生类别“{text(raw.get('category'))}”无效，应为 内地 或 港澳台")
    v["category"] = category or ""
    if not v["id_number"]:
        row.error("id_number", "请填写证件号码")
    elif v["id_type"]:
        result = check_id_number(v["id_type"], v["id_number"], codes=codes)
        for message in result.errors:
            row.error("id_number", message)
        if result.ok and result.gender and v["gender"] and result.gender != v["gender"]:
            row.error("gender", "性别与证件号码第17位不符（奇数为男，偶数为女）")
    if category == MAINLAND and v["id_type"] and v["id_type"] != ID_RESIDENT:
        row.error("id_type", "内地学生的证件类型应为居民身份证")
    elif category == HMT and v["id_type"] == ID_RESIDENT:
        row.error("id_type", "港澳台学生应使用港澳台居民的证件，而不是居民身份证")

    v["exam_no"] = compact(raw.get("exam_no")).upper()
    if v["exam_no"] and not EXAM_NO.fullmatch(v["exam_no"]):
        row.error("exam_no", "考生号应为14位数字或字母")
    v["college"] = " ".join(text(raw.get("college")).split())
    v["major"] = " ".join(text(raw.get("major")).split())
    v["major_code"] = compact(raw.get("major_code")).upper()
    for key in ("college", "major"):
        if not v[key]:
            row.error(key, f"请填写{HEADER_OF[key]}")
        elif len(v[key]) > 100:
            row.error(key, f"{HEADER_OF[key]}不能超过100个字符")
    if not MAJOR_CODE.fullmatch(v["major_code"]):
        row.error("major_code", f"专业代码“{v['major_code']}”应为6位数字，可带T、K或TK后缀")
    v["class_name"] = text(raw.get("class_name"))[:64]
    v["education_level"] = _code(row, "education_level", "education_level", raw.get("education_level"), codes,
                                 required=True)
    v["training_mode"] = _code(row, "training_mode", "training_mode", raw.get("training_mode"), codes,
                               required=False)
    v["duration_years"] = _duration(row, raw.get("duration_years"))
    v["enroll_date"] = _month(row, "enroll_date", raw.get("enroll_date"), with_day=False, required=False)
    if v["enroll_date"] and v["grad_date"] and v["enroll_date"] >= v["grad_date"][:6]:
        row.error("enroll_date", "入学年月必须早于毕业日期")
    if row.exclusion:
        row.errors.clear()  # out of scope: nothing to correct, keep what could be read
    return row


def row_hash(values: dict[str, Any], year: int) -> str:
    """Fingerprint of everything stored for a row; equal hash = re-import changes nothing."""
    payload = json.dumps([year, values], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
