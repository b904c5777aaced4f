"""The province's pages (省级, /province): 全省进度, one school's colleges, the export downloads.

Thin: read the query, call services.province, render. A school's page carries that school's
process analytics (charts, tables, exports: web/analytics_pages.py). Only the province role is admitted; the
export link is a plain download (works without script), which static/js/province.js turns into a
download with a progress line (bytes received against the row count the server announces).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request, stream_with_context
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.documents import XLSX_MIME
from service.errors import GradflowError, NotFound
from service.services import progress, province
from service.services.actors import Actor
from service.services.deadlines import store as deadline_store
from service.web.analytics_pages import analytics_context
from service.web.common import PROVINCE, page, render_error, settings

bp = Blueprint("web_province", __name__, url_prefix="/province")
bp.register_error_handler(GradflowError, render_error)

COLUMN_LABELS = {"code": "学校代码", "name": "学校", "expected": "应报", "records": "已绑定", "unbound": "未绑定",
                 "submitted": "已提交", "pending": "待审合计", "rejected": "不同意", "completed": "完成",
                 "percent": "完成率", "deadline": "截止时间"}


def _school_code(value: str) -> str:
    from service.api.province import SCHOOL_CODE

    if not SCHOOL_CODE.fullmatch(value):
        raise NotFound(f"学校 {value[:16]} 不存在", code="school_not_found")
    return value


@bp.get("")
@page(PROVINCE)
def overview(actor: Actor) -> str:
    s = settings()
    data = province.overview(graduation_year=s.graduation_year,
                             default_deadline=deadline_store.default_deadline(s),
                             sort=request.args.get("sort", "code")[:32], max_age=s.province_counts_seconds)
    return render_template("province/overview.html", data=data, labels=COLUMN_LABELS,
                           max_age=s.province_counts_seconds)


@bp.get("/schools/<string:code>")
@page(PROVINCE)
def school(actor: Actor, code: str) -> tuple[str, int]:
    detail = province.school_detail(actor, _school_code(code), settings())
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "school"] + [("school", code)])
    analytics = analytics_context(actor, args)  # the school's process analytics (one school: cheap)
    error = analytics["analytics_error"]
    return render_template("province/school.html", d=detail, units=progress.school_units(code), reviewers=[],
                           **analytics), (error.status if error else 200)


@bp.get("/export.xlsx")
@page(PROVINCE)
def export(actor: Actor) -> Response:
    """The completed records of one school (?school=) or of every school, streamed."""
    code = request.args.get("school", "").strip()
    school_code = _school_code(code) if code else None
    body, rows = province.start_export(actor, school_code)
    name = quote(province.export_name(school_code))
    return current_app.response_class(
        stream_with_context(body), mimetype=XLSX_MIME,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "X-Export-Rows": str(rows)})
