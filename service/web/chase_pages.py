"""催办名单 page (/console/chase) for counselors and the centre: a thin view over services.chase.

The filter form is a GET form (no state change, no CSRF needed); the export link carries the same
query to the streamed .xlsx. Times are shown in Beijing time (the local_time filter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.errors import GradflowError, InvalidInput
from service.services import progress
from service.services.actors import Actor
from service.services.chase import export as chase_export
from service.services.chase import query as chase
from service.services.chase.states import chase_states
from service.services.notify import reminders
from service.web.common import REVIEWER, page, render_error, settings

if TYPE_CHECKING:
    from service.models import College, Major

bp = Blueprint("web_chase", __name__, url_prefix="/console")
bp.register_error_handler(GradflowError, render_error)

PER_PAGE_CHOICES = (20, 50, 100)
FILTER_KEYS = ("state", "college", "major", "class", "pending_days")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ids(args: MultiDict, key: str) -> list[int]:
    values = [v for v in args.getlist(key) if v]
    if any(not v.isdigit() or len(v) > 10 for v in values):
        raise InvalidInput("筛选条件有误", details={key: ["应为院系或专业编号"]})
    return [int(v) for v in values]


def filters_from(args: MultiDict) -> chase.ChaseFilters:
    """The query string as the chase filter; malformed values are a 422 (the service checks the rest)."""
    days = (args.get("pending_days") or "").strip()
    if days and (not days.isdigit() or len(days) > 5):
        raise InvalidInput("筛选条件有误", details={"pending_days": ["待审天数应为0或正整数"]})
    states = args.getlist("state")
    if states and not all(states):
        raise InvalidInput("筛选条件有误", details={"state": ["状态不能为空"]})
    return chase.ChaseFilters(states=states, college=_ids(args, "college"), major=_ids(args, "major"),
                              class_name=[c for c in args.getlist("class") if c],
                              pending_days=int(days) if days else None)


def _query(args: MultiDict, **override: str | int | None) -> str:
    pairs = [(k, v) for k in (*FILTER_KEYS, "per_page") for v in args.getlist(k) if v and k not in override]
    pairs += [(k, str(v)) for k, v in override.items() if v not in (None, "")]
    return urlencode(pairs)


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else default


def _units(actor: Actor) -> list[tuple[College, list[Major]]]:
    """The colleges and majors the actor may pick (their grants; the whole school for the centre)."""
    units = progress.school_units(actor.school_code or "")
    if not actor.restricted:
        return units
    out: list[tuple[College, list[Major]]] = []
    for college, majors in units:
        visible = [m for m in majors if actor.can_see(actor.school_code or "", college.id, m.id)]
        if college.id in actor.college_ids or visible:
            out.append((college, visible))
    return out


@bp.get("/chase")
@page(REVIEWER)
def chase_page(actor: Actor) -> tuple[str, int]:
    args = request.args
    per_page = _int(args.get("per_page"), PER_PAGE_CHOICES[0])
    per_page = per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]
    page_no = _int(args.get("page"), 1)
    error: GradflowError | None = None
    year = settings().graduation_year
    try:
        filters = filters_from(args)
        result = chase.chase_page(actor, filters, year, page=page_no, per_page=per_page)
    except InvalidInput as exc:
        error, filters = exc, chase.ChaseFilters()
        result = None
    pages = max(1, -(-result.total // per_page)) if result else 1
    return render_template(
        "console/chase.html", result=result, error=error, filters=filters, args=args, states=chase_states(),
        units=_units(actor), per_page=per_page, per_page_choices=PER_PAGE_CHOICES, pages=pages,
        query=_query(args), page_url=lambda n: "?" + _query(args, page=n),
        per_page_url=lambda n: "?" + _query(args, per_page=n),
        link=_linker(filters),
    ), (error.status if error else 200)


def _linker(filters: chase.ChaseFilters):  # noqa: ANN202 - a template helper
    """link(state=…, college=…) for a count: that list, keeping the page's pending_days."""
    def link(**kw: object) -> str:
        pairs = [(k, str(v)) for k, v in kw.items() if v not in (None, "")]
        if filters.pending_days:
            pairs.append(("pending_days", str(filters.pending_days)))
        return "?" + urlencode(pairs)

    return link


@bp.get("/chase/export.xlsx")
@page(REVIEWER)
def chase_export_xlsx(actor: Actor) -> Response:
    """导出 the current chase filter as .xlsx, streamed."""
    filters = filters_from(request.args)
    body = chase_export.start_export(actor, filters, settings().graduation_year)
    name = quote(chase_export.download_name(actor, filters))
    return current_app.response_class(
        stream_with_context(body), mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.post("/chase/remind")
@page(REVIEWER)
def chase_remind(actor: Actor) -> Response:
    """提醒 every student of the list the page showed (its filter comes back as hidden fields)."""
    if request.form.get("confirm") != "1":
        raise InvalidInput("请勾选确认后再发送提醒", code="confirm_required")
    count = reminders.remind_listed(actor, filters_from(request.form), settings())
    flash(f"已向 {count} 名学生发送提醒", "success")
    return redirect(url_for("web_chase.chase_page") + "?" + _query(request.form))
