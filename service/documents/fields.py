"""Field ids, Chinese labels and value formatting shared by the export and the sign-off sheets.

Labels of coded values come from the caller's ``label_of`` (code tables are versioned data),
so this module only knows which table each coded field uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from service.validation.sections import FIELD_CODE_TABLE
from service.validation.sections import FIELD_LABELS as _REPORT_FIELD_LABELS

LabelOf = Callable[[str, str], "str | None"]
Mask = Callable[[str], str]

# Labels and code tables of the report's fields are the validation layer's (one source); the
# documents add the fields a printed or exported record carries besides the report itself.
FIELD_LABELS: dict[str, str] = {
    **_REPORT_FIELD_LABELS,
    "school_name": "院校名称",
    "review_status": "审核状态",
    "report_status": "上报状态",
    "last_comment": "审核意见",
}

# Which code table labels each coded field.
CODE_TABLES: dict[str, str] = dict(FIELD_CODE_TABLE)

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
