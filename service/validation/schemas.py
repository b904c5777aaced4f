"""One marshmallow schema per report section: types, formats and required fields.

Rules between fields and by student category are in rules.py, so that a draft can report them as
warnings; these schemas alone are what a stored value must always satisfy.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, pre_load, validates_schema

from service.codes import CodeRegistry
from service.validation.formats import (
    Code,
    Email,
    HalfYears,
    Phone,
    Region,
    Text,
    YearMonth,
    YearMonthDay,
    YesNo,
)
from service.validation.identity import check_id_number, normalise_id_number


class SectionSchema(Schema):
    """Common behaviour: blank values count as missing, unknown fields are refused."""

    error_messages = {"unknown": "未知字段", "type": "数据格式不正确，应为对象"}

    class Meta:
        unknown = RAISE

    def __init__(self, *args: Any, codes: CodeRegistry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes

    @pre_load
    def drop_blanks(self, data: Any, **kwargs: Any) -> Any:
        """A cleared form input arrives as '' or null: treat it as not filled in."""
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if v is not None and not (isinstance(v, str) and not v.strip())}


class SchoolSectionSchema(SectionSchema):
    school_code = Text(required=True, pattern=r"\d{5}", pattern_message="院校代码应为5位数字")
    student_no = Text(required=True, max_length=32)
    college = Text(required=True)
    major = Text(required=True)
    major_code = Text(
        required=True, pattern=r"\d{6}(T|K|TK)?", normalise=str.upper,
        pattern_message="专业代码应为6位数字，可带T、K或TK后缀",
    )
    class_name = Text()
    exam_no = Text(pattern=r"[0-9A-Z]{14}", normalise=str.upper, pattern_message="考生号应为14位数字或字母")
    education_level = Code(required=True)
    duration_years = HalfYears(required=True)
    enroll_date = YearMonth(required=True)
    grad_date = YearMonthDay(required=True)
    training_mode = Code(required=True)
    directed_unit = Text(max_length=200)
    normal_type = Code(required=True)


class PersonalSectionSchema(SectionSchema):
    name = Text(required=True, max_length=50)
    gender = Code(required=True)
    id_type = Code(required=True)
    id_number = Text(required=True, max_length=30, normalise=normalise_id_number)
    ethnicity = Code(required=True)
    political = Code(required=True)
    origin_region = Region(required=True)
    urban_rural = Code(required=True)
    hardship = Code(required=True)

    @validates_schema(skip_on_field_errors=False)
    def check_document(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The number's format depends on the document type, so it is checked with both."""
        if "id_type" in data and "id_number" in data:
            result = check_id_number(data["id_type"], data["id_number"], codes=self.codes)
            if result.errors:
                raise ValidationError(result.errors, field_name="id_number")


class OtherSectionSchema(SectionSchema):
    hukou_moved = YesNo(required=True)
    archive_moved = YesNo(required=True)
    current_hukou_region = Region()
    phone = Phone(required=True)
    email = Email(required=True)
    home_address = Text(required=True, max_length=200)
    remark = Text(max_length=500)


SECTION_SCHEMAS: dict[str, type[SectionSchema]] = {
    "school": SchoolSectionSchema,
    "personal": PersonalSectionSchema,
    "other": OtherSectionSchema,
}
