"""Process analytics on the dashboards: the filter form, the charts' data, the tables, the exports.

Thin: the query string is parsed into an AnalyticsFilters (malformed values are a 422 page, the
service checks the rest), services.analytics computes the figures, and the template renders each
chart as a <div data-chart='…'> (the figures as JSON, read by static/js/analytics.js: no inline
script under the CSP) with a <table> of the same figures behind it and an .xlsx export link.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service import clock
from service.documents import XLSX_MIME
from service.errors import GradflowError, InvalidInput
from service.services.actors import Actor
from service.services.analytics import export
from service.services.analytics.filters import AnalyticsFilters, scope_for
from service.services.analytics.tables import TABLE_KEYS, Report, report
from service.web.common import ADMIN, CENTRE, PROVINCE, REVIEWER, page, render_error, settings

bp = Blueprint("web_analytics", __name__, url_prefix="/analytics")
bp.register_error_handler(GradflowError, render_error)

FILTER_KEYS = ("school", "college", "major", "reviewer", "since", "until")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bad(key: str, message: str) -> InvalidInput:
    return InvalidInput(f"筛选条件有误：{message}", code="invalid_filter", details={key: [message]})


def _ids(args: MultiDict, key: str) -> tuple[int, ...]:
    values = [v for v in args.getlist(key) if v]
    if any(not v.isdigit() or len(v) > 10 for v in values):
        raise _bad(key, "应为院系或专业编号")
    return tuple(int(v) for v in values)


def _day(args: MultiDict, key: str) -> date | None:
    text = (args.get(key) or "").strip()
    if not text:
        return None
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        label = {"since": "开始日期", "until": "结束日期"}.get(key, "日期")
        raise _bad(key, f"{label}「{text[:32]}」格式不正确，应为 年-月-日（如 2021-05-01）") from None


def filters_from(args: MultiDict) -> AnalyticsFilters:
    return AnalyticsFilters(school=(args.get("school") or "").strip(), college=_ids(args, "college"),
                            major=_ids(args, "major"), reviewer=(args.get("reviewer") or "").strip(),
                            since=_day(args, "since"), until=_day(args, "until"))


def query_of(f: AnalyticsFilters) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in f.as_dict().items():
        pairs += [(key, str(v)) for v in value] if isinstance(value, list) else [(key, str(value))]
    return urlencode(pairs)


def _charts(r: Report) -> dict[str, dict[str, Any]]:
    """What each chart draws (the same figures as its table)."""
    b = r.burndown
    burn: dict[str, Any] = {"kind": "burndown", "days": [d.isoformat() for d in b.days], "completed": b.completed,
                            "remaining": b.remaining, "total": b.total, "projection": None}
    if b.projected is not None and b.deadline is not None and not b.deadline_passed and b.days:
        deadline_day = clock.beijing_date(b.deadline)
        burn["projection"] = {"from": b.days[-1].isoformat(), "to": deadline_day.isoformat(),
                              "start": b.completed_now, "end": b.projected}
    open_statuses = [s for s in r.backlog.statuses if s not in r.end_statuses]
    return {
        "burndown": burn,
        "backlog": {"kind": "backlog", "days": [d.isoformat() for d in r.backlog.days],
                    "series": [{"name": s, "data": r.backlog.counts[s]} for s in open_statuses]},
        "durations": {"kind": "durations", "statuses": [d.status for d in r.durations],
                      "median": [d.median_hours for d in r.durations], "p90": [d.p90_hours for d in r.durations]},
        "rejection_rates": {"kind": "rates", "levels": [lv.level for lv in r.rejections.levels],
                            "rates": [lv.rate for lv in r.rejections.levels]},
        "rejection_reasons": {"kind": "reasons", "texts": [x.text for x in r.rejections.reasons],
                              "counts": [x.count for x in r.rejections.reasons]},
        "throughput": _throughput_chart(r),
    }


def _throughput_chart(r: Report) -> dict[str, Any]:
    days = r.throughput.days
    index = {d: i for i, d in enumerate(days)}
    series: dict[tuple[str, str], list[int]] = {}
    names: dict[tuple[str, str], str] = {}
    for row in r.throughput.rows:
        key = (row.school, row.reviewer)
        names[key] = row.name if row.name == row.reviewer else f"{row.name}（{row.reviewer}）"
        series.setdefault(key, [0] * len(days))[index[row.day]] += row.count
    return {"kind": "throughput", "days": [d.isoformat() for d in days],
            "series": [{"name": names[k], "data": v} for k, v in series.items()]}


def analytics_context(actor: Actor, args: MultiDict) -> dict[str, Any]:
    """The dashboards' analytics block: the report, its tables and charts, or the filter's error."""
    try:
        f = filters_from(args)
        scope = scope_for(actor, f)
    except InvalidInput as exc:
        return {"analytics_error": exc, "analytics": None, "analytics_filters": AnalyticsFilters(),
                "analytics_prompt": ""}
    if scope.school_code is None:  # an admin without ?school=: a pass over every school is the API's, not a page's
        return {"analytics_error": None, "analytics": None, "analytics_filters": f,
                "analytics_prompt": "请选择学校后查看过程分析"}
    r = report(scope, settings())
    return {"analytics": r, "analytics_tables": r.tables(), "analytics_charts": _charts(r),
            "analytics_filters": f, "analytics_query": query_of(f), "analytics_error": None, "analytics_prompt": ""}


@bp.get("/export.xlsx")
@page(REVIEWER, CENTRE, ADMIN, PROVINCE)
def export_xlsx(actor: Actor) -> Response:
    """One analytics table as .xlsx (audited as an export)."""
    key = request.args.get("table", "")
    if key not in TABLE_KEYS:
        raise _bad("table", "没有这张表")
    body, name = export.export_table(key, scope_for(actor, filters_from(request.args)), settings())
    return current_app.response_class(body, mimetype=XLSX_MIME, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
