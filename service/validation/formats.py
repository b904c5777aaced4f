"""Marshmallow field types for the report: each checks one value's own format, in Chinese.

Format is what a draft must already get right (a value of the wrong shape is never stored);
everything that relates fields or depends on the student category lives in rules.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

from service.codes import REGION, CodeRegistry, get_codes, is_county_level_region
from service.validation.sections import FIELD_CODE_TABLE, FIELD_LABELS

PHONE_MAINLAND = "mainland"
PHONE_HK_MO = "hk_mo"
PHONE_TW = "tw"

_PHONE_PATTERNS = (
    (PHONE_MAINLAND, re.compile(r"(?:\+86)?1[3-9]\d{9}")),
    (PHONE_HK_MO, re.compile(r"(?:\+85[23])?\d{8}")),
    (PHONE_TW, re.compile(r"09\d{8}|\+8860?9\d{8}")),
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def normalise_phone(raw: str) -> str:
    """People write 138-0013-8000 or +852 9123 4567; keep digits and a leading +."""
    return re.sub(r"[\s\-()]", "", raw)


def phone_kind(phone: str) -> str | None:
    """Which network a normalised number belongs to, None when it matches none."""
    for kind, pattern in _PHONE_PATTERNS:
        if pattern.fullmatch(phone):
            return kind
    return None


def _label(field: fields.Field) -> str:
    return FIELD_LABELS.get(field.name or "", field.name or "")


class _Labelled(fields.Field):
    """Required/null messages name the field in Chinese."""

    def _bind_to_schema(self, field_name: str, parent: Any) -> None:
        super()._bind_to_schema(field_name, parent)
        label = FIELD_LABELS.get(field_name, field_name)
        self.error_messages = {
            **self.error_messages,
            "required": f"请填写{label}",
            "null": f"请填写{label}",
            "validator_failed": f"{label}格式不正确",
        }

    def _codes(self) -> CodeRegistry:
        root = self.root
        return getattr(root, "codes", None) or get_codes()


class Text(_Labelled):
    """A trimmed string (numbers accepted, e.g. from spreadsheets), optionally shaped by a pattern."""

    def __init__(
        self,
        *,
        max_length: int = 100,
        pattern: str | None = None,
        pattern_message: str = "",
        normalise: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message
        self.normalise = normalise

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(f"{_label(self)}应为文本")
        text = str(value).strip()
        if self.normalise:
            text = self.normalise(text)
        if len(text) > self.max_length:
            raise ValidationError(f"{_label(self)}不能超过{self.max_length}个字符")
        if self.pattern and not self.pattern.fullmatch(text):
            raise ValidationError(self.pattern_message or f"{_label(self)}格式不正确")
        return text


class Code(Text):
    """A code that must exist in the field's table (FIELD_CODE_TABLE)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=12, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        table = self._codes().table(FIELD_CODE_TABLE[self.name or ""])
        if code not in table:
            raise ValidationError(f"{_label(self)}代码“{code}”无效")
        return code


class Region(Code):
    """A GB/T 2260 code of a place a person is from: county level, or a region without counties."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        if not is_county_level_region(code, self._codes()):
            label = self._codes().label(REGION, code)
            raise ValidationError(f"{_label(self)}须选择到区县一级，“{label}”下还有区县")
        return code


class YearMonth(_Labelled):
    """YYYYMM, a real month."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not (len(text) == 6 and text.isdigit() and 1900 <= int(text[:4]) <= 2100 and 1 <= int(text[4:]) <= 12):
            raise ValidationError(f"{_label(self)}应为6位年月，如202009")
        return text


class YearMonthDay(_Labelled):
    """YYYYMM or YYYYMMDD, a real month or date."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        message = f"{_label(self)}应为6位年月或8位日期，如202106或20210630"
        if len(text) not in (6, 8) or not text.isdigit():
            raise ValidationError(message)
        try:
            date(int(text[:4]), int(text[4:6]), int(text[6:8] or 1))
        except ValueError:
            raise ValidationError(message) from None
        if not 1900 <= int(text[:4]) <= 2100:
            raise ValidationError(message)
        return text


class HalfYears(_Labelled):
    """学制 in years: 1.5 to 9.5 in steps of 0.5."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        message = f"{_label(self)}应在1.5至9.5年之间，以0.5年为单位"
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(message)
        try:
            years = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(message) from None
        if not years.is_finite() or not Decimal("1.5") <= years <= Decimal("9.5") or (years * 2) % 1:
            raise ValidationError(message)
        return float(years)


class YesNo(_Labelled):
    """是/否 as a boolean; accepts JSON booleans and the usual spreadsheet spellings."""

    _TRUE = frozenset({"true", "1", "是", "yes", "y"})
    _FALSE = frozenset({"false", "0", "否", "no", "n"})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, str | int) else ""
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise ValidationError(f"{_label(self)}应为是或否")


class Phone(Text):
    """A mainland mobile or a 港澳台 number; which ones a student may use is a rule (rules.py)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, normalise=normalise_phone, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        phone = super()._deserialize(value, attr, data, **kwargs)
        kind = phone_kind(phone)
        if kind == PHONE_MAINLAND:
            return phone.removeprefix("+86")
        if kind is None:
            raise ValidationError(
                "手机号码格式不正确：内地手机号为11位数字；香港、澳门为8位数字，台湾为09开头的10位数字，可加+852/+853/+886"
            )
        return phone


class Email(Text):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=254, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        email = super()._deserialize(value, attr, data, **kwargs)
        if not _EMAIL.fullmatch(email):
            raise ValidationError("电子邮箱格式不正确")
        return email
