"""The report's three sections: field ids in form order, Chinese labels and code tables.

Forms, exports and printed sheets all read these, so a field is named and ordered in one place.
"""

from __future__ import annotations

CATEGORY_MAINLAND = "mainland"
CATEGORY_HMT = "hmt"
CATEGORIES = (CATEGORY_MAINLAND, CATEGORY_HMT)

SECTION_LABELS: dict[str, str] = {"school": "学校", "personal": "个人", "other": "其他"}

SECTION_FIELDS: dict[str, list[str]] = {
    "school": [
        "school_code", "student_no", "college", "major", "major_code", "class_name", "exam_no",
        "education_level", "duration_years", "enroll_date", "grad_date", "training_mode",
        "directed_unit", "normal_type",
    ],
    "personal": [
        "name", "gender", "id_type", "id_number", "ethnicity", "political", "origin_region",
        "urban_rural", "hardship",
    ],
    "other": [
        "hukou_moved", "archive_moved", "current_hukou_region", "phone", "email", "home_address",
        "remark",
    ],
}

FIELD_LABELS: dict[str, str] = {
    "school_code": "院校代码",
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
}

FIELD_CODE_TABLE: dict[str, str] = {
    "education_level": "education_level",
    "training_mode": "training_mode",
    "normal_type": "normal_type",
    "gender": "gender",
    "id_type": "id_type",
    "ethnicity": "ethnicity",
    "political": "political",
    "origin_region": "region",
    "urban_rural": "urban_rural",
    "hardship": "hardship",
    "current_hukou_region": "region",
}

# 培养方式 codes that require a 定向委培单位.
DIRECTED_TRAINING_MODES = frozenset({"2", "4"})


def field_section(field_id: str) -> str:
    """The section a field id belongs to (ids are unique across sections)."""
    for section, ids in SECTION_FIELDS.items():
        if field_id in ids:
            return section
    raise KeyError(field_id)
