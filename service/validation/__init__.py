"""Validation of the graduate report: identity documents, section schemas and rules."""

from service.validation.identity import (
    IdCheckResult,
    check_id_number,
    make_resident_id,
    mask_id_number,
    resident_id_check_char,
)
from service.validation.report import ValidationOutcome, validate_report, validate_section
from service.validation.schemas import OtherSectionSchema, PersonalSectionSchema, SchoolSectionSchema
from service.validation.sections import FIELD_CODE_TABLE, FIELD_LABELS, SECTION_FIELDS, SECTION_LABELS

__all__ = [
    "FIELD_CODE_TABLE",
    "FIELD_LABELS",
    "SECTION_FIELDS",
    "SECTION_LABELS",
    "IdCheckResult",
    "OtherSectionSchema",
    "PersonalSectionSchema",
    "SchoolSectionSchema",
    "ValidationOutcome",
    "check_id_number",
    "make_resident_id",
    "mask_id_number",
    "resident_id_check_char",
    "validate_report",
    "validate_section",
]
