"""审计日志 (/audit): the audit trail for the centre, admins and the province, with its .xlsx export.

Thin: the query string becomes services.audit_trail's filters (times are Beijing time on the
page, stored UTC), the service answers, the page renders. Everyone else gets 404 (the trail's
rule), a bad filter comes back as the page with the reason (422), never a 500.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, render_template, request, stream_with_context
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.clock import BEIJING
from service.documents import XLSX_MIME
from service.errors import GradflowError, InvalidInput
from service.services import schools
from service.services.actors import Actor
from service.services.audit_trail import export as trail_export
from service.services.audit_trail import filters as trail
from service.services.audit_trail import page_check
from service.services.audit_trail.labels import ACTION_LABELS, field_choices
from service.web.common import page, render_error

bp = Blueprint("web_audit", __name__, url_prefix="/audit")
bp.register_error_handler(GradflowError, render_error)

PER_PAGE_CHOICES = (20, 50, 100)
FILTER_KEYS = ("record", "actor", "action", "level", "field", "school", "from", "to")


def _when(args: MultiDict, key: str, label: str, *, end: bool) -> datetime | None:
    """YYYY-MM-DD or YYYY-MM-DDTHH:MM in Beijing time; a date alone is the day's start (or end)."""
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    if len(raw) <= 16:
        for fmt, last in (("%Y-%m-%d", timedelta(days=1, microseconds=-1)),
                          ("%Y-%m-%dT%H:%M", timedelta(minutes=1, microseconds=-1))):
            try:
                value = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            return (value + last if end else value).replace(tzinfo=BEIJING)
    message = f"{label}「{raw[:32]}」格式不正确，应为 年-月-日（如 2021-05-01）"
    raise InvalidInput(message, details={key: [message]})


def _int(value: str | None, default: int) -> int:
    """A typed number, however large (a huge one is then clamped by the caller); anything else: default."""
    if value and value.isdigit() and len(value) <= 12:
        return int(value)
    return default


def filters_from(args: MultiDict, actor: Actor) -> trail.TrailFilters:
    return trail.TrailFilters(
        record=(args.get("record") or "").strip(), actor=(args.get("actor") or "").strip(),
        action=(args.get("action") or "").strip(), level=(args.get("level") or "").strip(),
        field=(args.get("field") or "").strip(),
        school=(args.get("school") or "").strip() if (actor.is_admin or actor.is_province) else "",
        since=_when(args, "from", "开始日期", end=False), until=_when(args, "to", "结束日期", end=True))


def _query(args: MultiDict, **override: str | int) -> str:
    pairs = [(k, v) for k in (*FILTER_KEYS, "per_page") for v in args.getlist(k) if v and k not in override]
    pairs.extend((k, str(v)) for k, v in override.items())
    return urlencode(pairs)


@bp.get("")
@page()
def audit_page(actor: Actor) -> tuple[str, int]:
    trail.require_reader(actor)
    args = request.args
    per_page = _int(args.get("per_page"), 50)
    per_page = per_page if per_page in PER_PAGE_CHOICES else 50
    number = min(max(_int(args.get("page"), 1), 1), trail.MAX_PAGE)  # any page number is a page: 0 the first
    result = check = None
    error: GradflowError | None = None
    try:
        f = filters_from(args, actor)
        result = trail.search(actor, f, page=number, per_page=per_page)
        check = page_check.check_page(result.events)
    except InvalidInput as exc:
        error = exc
    wide = actor.is_admin or actor.is_province
    return render_template(
        "audit/index.html", result=result, check=check, error=error, args=args, per_page=per_page,
        per_page_choices=PER_PAGE_CHOICES, actions=sorted(ACTION_LABELS.items(), key=lambda kv: kv[1]),
        levels=trail.level_choices(), fields=field_choices(), schools=schools.list_schools() if wide else [],
        wide=wide, query=_query(args),
        page_url=lambda n: f"?{_query(args, page=n)}", per_page_url=lambda n: f"?{_query(args, per_page=n)}",
        broken=check.broken_ids() if check else set(),
    ), (error.status if error else 200)


@bp.get("/export.xlsx")
@page()
def audit_export(actor: Actor) -> Response:
    """导出 the page's filter as .xlsx, streamed; the export is audited before the first byte."""
    trail.require_reader(actor)
    f = filters_from(request.args, actor)
    body = trail_export.start_export(actor, f)
    name = quote(trail_export.download_name(actor, f))
    return current_app.response_class(
        stream_with_context(body), mimetype=XLSX_MIME,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
