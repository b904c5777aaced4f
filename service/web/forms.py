"""How the report's fields look in a page: which widget, which options, how a value reads.

Field ids, labels, sections and code tables come from service.validation.sections and the code
tables; this module only decides presentation (select, region picker, 是/否) and turns posted form
fields back into the section dicts the services take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from service.codes import REGION, get_codes, region_path
from service.services.majors import split_choice
from service.validation.sections import (
    CATEGORY_HMT,
    DIRECTED_TRAINING_MODES,
    FIELD_CODE_TABLE,
    FIELD_LABELS,
    SECTION_FIELDS,
    SECTION_LABELS,
)

YES_NO_FIELDS = frozenset({"hukou_moved", "archive_moved"})
TEXTAREA_FIELDS = frozenset({"remark", "home_address"})
HALF_YEARS = [f"{x / 2:g}" for x in range(3, 20)]  # 1.5 … 9.5
# 港澳台 students give a Hong Kong, Macao, Taiwan or mainland number (validation.formats accepts all).
PLACEHOLDERS_BY_CATEGORY = {("phone", CATEGORY_HMT): "手机号码，如 +852 91234567、+886 912345678 或内地号码"}
PLACEHOLDERS = {
    "enroll_date": "如 201709", "grad_date": "如 20210630", "phone": "11位手机号码", "email": "name@example.com",
    "directed_unit": "定向或委培时填写", "exam_no": "14位考生号",
}
# Shown only to some students: 现户口所在地 is not asked of 港澳台 students (the notice's rule).
HIDDEN_FOR = {"current_hukou_region": frozenset({CATEGORY_HMT})}


@dataclass(frozen=True)
class FieldView:
    section: str
    name: str
    label: str
    widget: str  # text | select | region | yesno | halfyears | textarea
    options: list[tuple[str, str]]
    placeholder: str = ""

    @property
    def input_name(self) -> str:
        return f"{self.section}.{self.name}"


def widget_of(name: str) -> str:
    if name in YES_NO_FIELDS:
        return "yesno"
    if FIELD_CODE_TABLE.get(name) == REGION:
        return "region"
    if name in FIELD_CODE_TABLE:
        return "select"
    if name == "duration_years":
        return "halfyears"
    if name in TEXTAREA_FIELDS:
        return "textarea"
    return "text"


def field_views(section: str, category: str) -> list[FieldView]:
    """The section's fields in form order, minus those not asked of this category."""
    codes = get_codes()
    views = []
    for name in SECTION_FIELDS[section]:
        if category in HIDDEN_FOR.get(name, ()):
            continue
        widget = widget_of(name)
        options: list[tuple[str, str]] = []
        if widget == "select":
            options = [(r.code, r.label) for r in codes.table(FIELD_CODE_TABLE[name]).rows]
        elif widget == "halfyears":
            options = [(v, f"{v} 年") for v in HALF_YEARS]
        placeholder = PLACEHOLDERS_BY_CATEGORY.get((name, category), PLACEHOLDERS.get(name, ""))
        views.append(FieldView(section, name, FIELD_LABELS[name], widget, options, placeholder))
    return views


def code_options(table: str) -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in get_codes().table(table).rows]


def sections_label(path: str) -> str:
    """'school.major_code' -> '学校 · 专业代码' for error summaries."""
    section, _, name = path.partition(".")
    return " · ".join(x for x in (SECTION_LABELS.get(section, section), FIELD_LABELS.get(name, name)) if x)


def sections() -> list[tuple[str, str]]:
    return list(SECTION_LABELS.items())


def directed_modes() -> list[str]:
    return sorted(DIRECTED_TRAINING_MODES)


def region_levels(code: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """For a region picker: (selected code, options) for province, city and county."""
    table = get_codes().table(REGION)
    chain = [row.code for row in region_path(code)] if code else []
    levels: list[tuple[str, list[tuple[str, str]]]] = []
    parent = ""
    for depth in range(3):
        selected = chain[depth] if depth < len(chain) else ""
        options = [(r.code, r.label) for r in table.choices(parent)] if depth == 0 or parent else []
        levels.append((selected, options))
        parent = selected
    return levels


def display(name: str, value: Any) -> str:
    """A stored value as people read it: labels for codes, the region path, 是/否."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    table = FIELD_CODE_TABLE.get(name)
    if table == REGION:
        path = region_path(str(value))
        return " ".join(r.label for r in path) if path else str(value)
    if table:
        label = get_codes().label(table, str(value))
        return f"{label}" if label else str(value)
    if name == "duration_years" and isinstance(value, float):
        return f"{value:g} 年"
    return str(value)


def form_value(value: Any) -> str:
    """A stored value as a form input's value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def section_from_form(form: MultiDict, section: str) -> dict[str, Any]:
    """The posted inputs named '<section>.<field>' as the section dict a service validates."""
    out: dict[str, Any] = {}
    for name in SECTION_FIELDS[section]:
        key = f"{section}.{name}"
        if key in form:
            out[name] = form.get(key, "").strip()
    return out


# The one select that offers a major as "代码 名称" posts both halves as one value.
MAJOR_CHOICE = "school.major_choice"


def report_from_form(form: MultiDict) -> dict[str, dict[str, Any]]:
    """The posted sections; a major chosen in the one select becomes school.major_code + school.major
    (a value not of the form 'code|name' is passed as it is, so the service's pair check names it)."""
    report = {section: part for section in SECTION_FIELDS if (part := section_from_form(form, section))}
    if MAJOR_CHOICE in form:
        raw = form.get(MAJOR_CHOICE, "").strip()
        pair = split_choice(raw)
        code, name = pair if pair else (raw, "")
        report.setdefault("school", {}).update(major_code=code, major=name)
    return report


def errors_by_field(details: Any) -> dict[str, list[str]]:
    """InvalidInput details {"school.major_code": [...]} as a plain dict (anything else dropped)."""
    if not isinstance(details, dict):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in details.items():
        if isinstance(value, list):
            out[str(key)] = [str(v) for v in value]
        elif isinstance(value, str):
            out[str(key)] = [value]
        elif isinstance(value, dict):
            for sub, msgs in errors_by_field(value).items():
                out[f"{key}.{sub}"] = msgs
    return out
