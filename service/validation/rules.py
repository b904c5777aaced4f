"""Rules that relate fields or depend on the student category (内地 / 港澳台).

They run on values that already passed their format check. Each finding says how serious it is,
because a draft turns rule violations into warnings and ignores missing values altogether.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from service.codes import CodeRegistry
from service.validation.formats import PHONE_MAINLAND, phone_kind
from service.validation.identity import GB11643_TYPES, ID_RESIDENT, check_id_number, gender_from_id
from service.validation.sections import CATEGORY_HMT, CATEGORY_MAINLAND, DIRECTED_TRAINING_MODES

# missing: a conditionally required value is absent (ignored in drafts);
# rule: a violated rule (a warning in drafts); warning: always only a warning.
Severity = Literal["missing", "rule", "warning"]


@dataclass(frozen=True)
class Finding:
    field: str
    message: str
    severity: Severity


Data = dict[str, Any]


def school_rules(data: Data, category: str, codes: CodeRegistry | None) -> list[Finding]:
    found: list[Finding] = []
    mode, unit = data.get("training_mode"), data.get("directed_unit")
    if mode in DIRECTED_TRAINING_MODES and not unit:
        found.append(Finding("directed_unit", "培养方式为定向或委培时必须填写定向委培单位", "missing"))
    elif mode is not None and mode not in DIRECTED_TRAINING_MODES and unit:
        found.append(Finding("directed_unit", "培养方式不是定向或委培时，定向委培单位必须为空", "rule"))
    enroll, grad = data.get("enroll_date"), data.get("grad_date")
    if enroll and grad and enroll >= grad[:6]:
        found.append(Finding("enroll_date", "入学年月必须早于毕业日期", "rule"))
    return found


def personal_rules(data: Data, category: str, codes: CodeRegistry | None) -> list[Finding]:
    found: list[Finding] = []
    id_type, number = data.get("id_type"), data.get("id_number")
    if id_type is not None:
        if category == CATEGORY_MAINLAND and id_type != ID_RESIDENT:
            found.append(Finding("id_type", "中国内地学生的证件类型应为居民身份证", "rule"))
        elif category == CATEGORY_HMT and id_type == ID_RESIDENT:
            found.append(Finding("id_type", "港澳台学生应使用港澳台居民的证件，而不是居民身份证", "rule"))
    if id_type in GB11643_TYPES and number:
        result = check_id_number(id_type, number, codes=codes)
        found.extend(Finding("id_number", w, "warning") for w in result.warnings)
        gender = data.get("gender")
        if result.ok and gender and gender != gender_from_id(number):
            found.append(Finding("gender", "性别与证件号码第17位不符（奇数为男，偶数为女）", "rule"))
    return found


def other_rules(data: Data, category: str, codes: CodeRegistry | None) -> list[Finding]:
    found: list[Finding] = []
    hukou = data.get("current_hukou_region")
    if category == CATEGORY_HMT and hukou:
        found.append(Finding("current_hukou_region", "港澳台学生不填写现户口所在地", "rule"))
    elif category == CATEGORY_MAINLAND and not hukou:
        found.append(Finding("current_hukou_region", "请填写现户口所在地", "missing"))
    phone = data.get("phone")
    if phone and category == CATEGORY_MAINLAND and phone_kind(phone) != PHONE_MAINLAND:
        found.append(Finding("phone", "中国内地学生请填写11位内地手机号码", "rule"))
    return found


SECTION_RULES: dict[str, Callable[[Data, str, CodeRegistry | None], list[Finding]]] = {
    "school": school_rules,
    "personal": personal_rules,
    "other": other_rules,
}
