"""Validate a student's report (学校 / 个人 / 其他) as a draft or for submission.

Errors and warnings are keyed by field path ("school.directed_unit") so that the API can return
them as they are and a form can put each message beside its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from service.codes import CodeRegistry
from service.validation.rules import SECTION_RULES
from service.validation.schemas import (
    SECTION_SCHEMAS,
    OtherSectionSchema,
    PersonalSectionSchema,
    SchoolSectionSchema,
)
from service.validation.sections import (
    CATEGORIES,
    FIELD_CODE_TABLE,
    FIELD_LABELS,
    SECTION_FIELDS,
    SECTION_LABELS,
)

__all__ = [
    "FIELD_CODE_TABLE",
    "FIELD_LABELS",
    "SECTION_FIELDS",
    "SECTION_LABELS",
    "OtherSectionSchema",
    "PersonalSectionSchema",
    "SchoolSectionSchema",
    "ValidationOutcome",
    "validate_report",
    "validate_section",
]


@dataclass
class ValidationOutcome:
    """errors/warnings: path -> Chinese messages; cleaned: normalised values that passed."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    cleaned: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def add_warning(self, path: str, message: str) -> None:
        self.warnings.setdefault(path, []).append(message)


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [m for item in value.values() for m in _messages(item)]
    return [str(value)]


def validate_section(
    section: str,
    data: Any,
    category: str,
    *,
    draft: bool,
    codes: CodeRegistry | None = None,
) -> ValidationOutcome:
    """One section, e.g. when a student saves it; `cleaned` is that section's fields (None = blank).

    With draft=True missing values are fine and rule violations are warnings; format errors
    always block, because a malformed value is never stored.
    """
    if section not in SECTION_SCHEMAS:
        raise ValueError(f"unknown section {section!r}")
    if category not in CATEGORIES:
        raise ValueError(f"unknown student category {category!r}")
    outcome = ValidationOutcome()
    if not isinstance(data, dict):
        outcome.add_error(section, f"{SECTION_LABELS[section]}部分的数据格式不正确，应为对象")
        return outcome
    schema = SECTION_SCHEMAS[section](codes=codes)
    try:
        loaded: dict[str, Any] = schema.load(data, partial=draft)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        for name, value in messages.items():
            path = section if name == "_schema" else f"{section}.{name}"
            for message in _messages(value):
                outcome.add_error(path, message)
        loaded = dict(exc.valid_data) if isinstance(exc.valid_data, dict) else {}
    failed = {path.partition(".")[2] for path in outcome.errors}
    valid = {k: v for k, v in loaded.items() if k not in failed}

    for finding in SECTION_RULES[section](valid, category, codes):
        if finding.field in failed:
            continue  # its format error says enough
        path = f"{section}.{finding.field}"
        if finding.severity == "warning" or (draft and finding.severity == "rule"):
            outcome.add_warning(path, finding.message)
        elif not draft:
            outcome.add_error(path, finding.message)
    outcome.cleaned = {name: valid.get(name) for name in SECTION_FIELDS[section] if name not in failed}
    return outcome


def validate_report(
    report: Any,
    category: str,
    *,
    draft: bool = False,
    codes: CodeRegistry | None = None,
) -> ValidationOutcome:
    """The whole report {"school", "personal", "other"}; `cleaned` is nested by section.

    A missing section counts as empty (so on submit its required fields are reported).
    Keys other than the three sections are ignored.
    """
    outcome = ValidationOutcome()
    if not isinstance(report, dict):
        outcome.add_error("report", "数据格式不正确，应为包含学校、个人、其他三部分的对象")
        return outcome
    for section in SECTION_FIELDS:
        part = report.get(section)
        result = validate_section(section, {} if part is None else part, category, draft=draft, codes=codes)
        for path, messages in result.errors.items():
            outcome.errors.setdefault(path, []).extend(messages)
        for path, messages in result.warnings.items():
            outcome.warnings.setdefault(path, []).extend(messages)
        outcome.cleaned[section] = result.cleaned
    return outcome
