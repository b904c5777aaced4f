"""Field ids, Chinese labels and value formatting shared by the export and the sign-off sheets.

Labels of coded values come from the caller's ``label_of`` (code tables are versioned data),
so this module only knows which table each coded field uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

LabelOf = Callable[[str, str], "str | None"]
Mask = Callable[[str], str]

# Chinese label of every field a record may carry (DESIGN.md section 3 plus the statuses).
FIELD_LABELS: dict[str, str] = {
    "school_code": "院校代码",
    "school_name": "院校名称",
    "student_no": "学号",
    "college": "院系",
    "major": "专业",
    "major_code": "专业代码",
    "class_name": "班级",
    "exam_no": "考生号",
    "education_level": "学历",
    "duration_years": "学制",
    "enroll_date": "入学年月",
    "grad_date": "毕业日期",
    "training_mode": "培养方式",
    "directed_unit": "定向委培单位",
    "normal_type": "师范生类别",
    "name": "姓名",
    "gender": "性别",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "ethnicity": "民族",
    "political": "政治面貌",
    "origin_region": "生源所在地",
    "urban_rural": "城乡生源",
    "hardship": "困难生类别",
    "hukou_moved": "户口是否迁入学校",
    "archive_moved": "档案是否转入学校",
    "current_hukou_region": "现户口所在地",
    "phone": "手机号码",
    "email": "电子邮箱",
    "home_address": "家庭地址",
    "remark": "备注",
    "review_status": "审核状态",
    "report_status": "上报状态",
    "last_comment": "审核意见",
}

# Which code table labels each coded field.
CODE_TABLES: dict[str, str] = {
    "education_level": "education_level",
    "training_mode": "training_mode",
    "normal_type": "normal_type",
    "gender": "gender",
    "id_type": "id_type",
    "ethnicity": "ethnicity",
    "political": "political",
    "origin_region": "region",
    "current_hukou_region": "region",
    "urban_rural": "urban_rural",
    "hardship": "hardship",
}

BOOL_FIELDS = frozenset({"hukou_moved", "archive_moved"})
ID_FIELD = "id_number"

_TRUE = {"1", "true", "t", "y", "yes", "是"}
_FALSE = {"0", "false", "f", "n", "no", "否"}


def text(value: object) -> str:
    """Plain text of a stored value: '' for None, 4.0 -> '4', dates as YYYYMMDD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, date):  # datetime too
        return value.strftime("%Y%m%d")
    return str(value)


def yes_no(value: object) -> str:
    """是/否 for booleans however they were stored; '' when unknown, the raw text if unrecognised."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool | int):
        return "是" if value else "否"
    s = str(value).strip().lower()
    if s in _TRUE:
        return "是"
    if s in _FALSE:
        return "否"
    return str(value)


def cached_label_of(label_of: LabelOf) -> LabelOf:
    """Memoise label lookups: an export asks the same few (table, code) pairs millions of times."""
    cache: dict[tuple[str, str], str | None] = {}

    def lookup(table: str, code: str) -> str | None:
        key = (table, code)
        if key not in cache:
            cache[key] = label_of(table, code)
        return cache[key]

    return lookup
