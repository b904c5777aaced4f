"""Reviewer console (生源管理): majors with pending counts, search and filters, batch and single review,
审核记录, 编辑, 添加, 导出 and 打印签字表 — each a thin call into the reviewer services."""

from __future__ import annotations

from typing import Any
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

from service.codes import REGION, get_codes
from service.errors import GradflowError, InvalidInput
from service.services import audit_query, exports, majors, records, reviews
from service.services.actors import Actor
from service.services.audit_trail import since_rejection
from service.services.audit_trail.labels import ACTION_LABELS
from service.services.on_behalf.submit import submit_on_behalf
from service.services.records_query import RecordFilters, search
from service.services.review_scope import known_report_statuses, known_statuses, needs_full_id
from service.validation.sections import FIELD_LABELS
from service.web import forms
from service.web.common import REVIEWER, page, render_error, safe_next, settings

bp = Blueprint("web_console", __name__, url_prefix="/console")
bp.register_error_handler(GradflowError, render_error)

PER_PAGE_CHOICES = (20, 50, 100)
FILTER_KEYS = ("q", "review_status", "report_status", "origin_province", "origin_city", "major", "college",
               "per_page")
# How audit actions read in 审核记录 (decisions are shown as 通过 / 不通过 instead): ACTION_LABELS.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and len(value) < 9 else default


def _filters(args: MultiDict) -> RecordFilters:
    """The console's query string as the search service's filters."""
    origin = (args.get("origin_city") or args.get("origin_province") or "").strip()
    return RecordFilters(
        q=(args.get("q") or "").strip(),
        review_status=[s for s in args.getlist("review_status") if s],
        report_status=[s for s in args.getlist("report_status") if s],
        origin_region=origin,
        college=[int(x) for x in args.getlist("college") if x.isdigit()],
        major=[int(x) for x in args.getlist("major") if x.isdigit()],
    )


def _filter_query(args: MultiDict, **override: Any) -> str:
    pairs = [(k, v) for k in FILTER_KEYS for v in args.getlist(k) if v and k not in override]
    pairs += [(k, v) for k, v in override.items() if v not in (None, "")]
    return urlencode(pairs)


@bp.get("/")
@page(REVIEWER)
def index(actor: Actor) -> str | tuple[str, int]:
    args = request.args
    filters = _filters(args)
    page_no = _int(args.get("page"), 1)
    per_page = _int(args.get("per_page"), PER_PAGE_CHOICES[0])
    if per_page not in PER_PAGE_CHOICES:
        per_page = PER_PAGE_CHOICES[0]
    after = (args.get("after") or "")[:1024] or None  # the next page by cursor: any depth stays a range read
    error: GradflowError | None = None
    try:
        result = search(actor, filters, page=1 if after else page_no, per_page=per_page, after=after)
    except InvalidInput as exc:
        error, page_no = exc, 1
        result = search(actor, RecordFilters(), page=1, per_page=per_page)
    majors = reviews.majors_with_pending(actor)
    regions = get_codes().table(REGION)
    province = (args.get("origin_province") or "")[:2]
    cities = [(r.code[:4], r.label) for r in regions.children(province + "0000")] if province else []
    pages = max(1, -(-result.total // per_page))
    return render_template(
        "console/index.html", result=result, majors=majors, filters=filters, args=args, error=error,
        statuses=known_statuses(), report_statuses=known_report_statuses(),
        provinces=[(r.code[:2], r.label) for r in regions.choices("")], cities=cities,
        pages=pages, per_page=per_page, per_page_choices=PER_PAGE_CHOICES,
        query=_filter_query(args), filter_pairs=[(k, v) for k in FILTER_KEYS for v in args.getlist(k) if v],
        signoff_forms=exports.SIGNOFF_FORMS, page_url=lambda n: "?" + _filter_query(args, page=n), page_no=page_no,
        next_url="?" + _filter_query(args, page=page_no + 1, after=result.next_after) if result.next_after else "",
        per_page_url=lambda n: "?" + _filter_query(args, per_page=n),
        current_url=request.full_path,
    ), (error.status if error else 200)


@bp.post("/batch")
@page(REVIEWER)
def batch(actor: Actor) -> Response:
    """批量审核 of a selection (record_ids) or of whole majors (majors)."""
    form = request.form
    back = safe_next(form.get("next")) or url_for("web_console.index")
    record_ids = [int(x) for x in form.getlist("record_ids") if x.isdigit()]
    majors = [int(x) for x in form.getlist("majors") if x.isdigit()]
    try:
        result = reviews.review_batch(actor, form.get("decision", ""), form.get("comment", ""),
                                      record_ids=record_ids or None, majors=majors or None)
    except InvalidInput as exc:
        flash(_message(exc), "error")
        return redirect(back)
    word = "通过" if result.decision == "approve" else "不通过"
    text = f"批量审核（{word}）完成：成功 {result.succeeded} 条"
    if result.skipped:
        reasons: dict[str, int] = {}
        for item in result.skipped:
            reasons[item["message"]] = reasons.get(item["message"], 0) + 1
        text += f"，跳过 {len(result.skipped)} 条（" + "；".join(f"{m} {n} 条" for m, n in reasons.items()) + "）"
    flash(text, "success" if result.succeeded else "error")
    return redirect(back)


def _message(exc: GradflowError) -> str:
    fields = forms.errors_by_field(exc.details)
    return exc.message + ("：" + "；".join(m for ms in fields.values() for m in ms) if fields else "")


@bp.route("/records/<int:record_id>", methods=["GET", "POST"])
@page(REVIEWER)
def record(record_id: int, actor: Actor) -> str | Response | tuple[str, int]:
    """审核: the record, the review form (when pending at the caller's level) and the 审核记录 tab."""
    back = safe_next(request.values.get("next")) or url_for("web_console.index")
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        expected = _int(request.form.get("lock_version"), 0) or None
        try:
            done = reviews.review_one(actor, record_id, request.form.get("decision", ""),
                                      request.form.get("comment", ""), expected_version=expected)
        except InvalidInput as exc:
            errors = forms.errors_by_field(exc.details) or {"decision": [exc.message]}
            status = exc.status
        else:
            flash(f"审核完成：{done.status_before} → {done.status_after}", "success")
            return redirect(back)
    reveal = request.args.get("reveal") == "1"
    detail = records.get_record(actor, record_id, reveal_id=reveal, settings=settings())
    history = audit_query.record_history(actor, record_id)
    since = since_rejection.from_history(history)
    return render_template(
        "console/record.html", record=detail, history=history, tab=request.args.get("tab", "info"),
        rejection=since_rejection.latest_rejection(history), since_rejection=since,
        changed_fields={c["field"]: c for c in since},
        views={s: forms.field_views(s, detail["category"]) for s, _ in forms.sections()},
        sections=forms.sections(), errors=errors, form=request.form, back=back,
        can_reveal=needs_full_id(actor) and not reveal, action_labels=ACTION_LABELS,
        field_labels={**FIELD_LABELS, "category": "学生类别"},
    ), status


@bp.post("/records/<int:record_id>/submit-on-behalf")
@page(REVIEWER)
def on_behalf(record_id: int, actor: Actor) -> Response:
    """代为提交 (confirmed with a checkbox): refusals come back as a message on the record page."""
    back = safe_next(request.form.get("next")) or url_for("web_console.index")
    here = url_for("web_console.record", record_id=record_id, next=back)
    if request.form.get("confirm") != "1":
        records.load_visible(actor, record_id)  # out of scope stays a 404, even unconfirmed
        flash("请勾选确认后再代为提交", "error")
        return redirect(here)
    expected = _int(request.form.get("lock_version"), 0) or None
    try:
        done = submit_on_behalf(actor, record_id, settings(), expected_version=expected)
    except InvalidInput as exc:
        flash(_message(exc), "error")
        return redirect(here)
    except GradflowError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return redirect(here)
    flash(f"已代学生提交：{done.status_before} → {done.status_after}", "success")
    return redirect(here)


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@page(REVIEWER)
def edit(record_id: int, actor: Actor) -> str | Response | tuple[str, int]:
    """编辑: refused by the service once the record is 完成 (the page says so and shows no form)."""
    back = safe_next(request.values.get("next")) or url_for("web_console.index")
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    refused: GradflowError | None = None
    status = 200
    detail = records.get_record(actor, record_id)
    if request.method == "POST":
        expected = _int(request.form.get("lock_version"), 0) or None
        try:
            result = records.edit_record(actor, record_id, forms.report_from_form(request.form),
                                         expected_version=expected)
        except InvalidInput as exc:
            errors = forms.errors_by_field(exc.details)
            status = exc.status
        except GradflowError as exc:  # 409: 完成, or changed by someone else meanwhile
            refused, status = exc, exc.status
        else:
            changed = result["changed"]
            flash(f"已保存，修改了 {len(changed)} 项" if changed else "没有修改任何内容", "success")
            return redirect(back)
    data = detail["data"] if request.method == "GET" or refused else _overlay(detail["data"], request.form)
    return render_template(
        "console/edit.html", record=detail, data=data, errors=errors, warnings=warnings, refused=refused,
        views={s: forms.field_views(s, detail["category"]) for s, _ in forms.sections()},
        sections=forms.sections(), read_only=records.READ_ONLY, back=back,
        directed_modes=",".join(forms.directed_modes()),
        major_choices=majors.choices(actor, detail["school_code"], (detail["college"] or {}).get("id")),
    ), status


def _overlay(data: dict[str, Any], form: MultiDict) -> dict[str, Any]:
    """The stored data with the posted values on top, to re-show a form that failed validation."""
    out = {s: dict(data.get(s) or {}) for s, _ in forms.sections()}
    for section, part in forms.report_from_form(form).items():
        out[section].update(part)
    return out


@bp.route("/records/new", methods=["GET", "POST"])
@page(REVIEWER)
def add(actor: Actor) -> str | Response | tuple[str, int]:
    """添加: pick a roster student by 学号, complete the report; it starts at the first review status."""
    student_no = (request.values.get("student_no") or "").strip()
    errors: dict[str, list[str]] = {}
    error: GradflowError | None = None
    status = 200
    data: dict[str, Any] = {}
    roster = None
    if student_no:
        try:
            roster, data = records.add_form(actor, student_no)
        except GradflowError as exc:
            error, status, roster = exc, exc.status, None
    if request.method == "POST" and roster is not None:
        try:
            result = records.add_record(actor, student_no, forms.report_from_form(request.form))
        except InvalidInput as exc:
            errors, status = forms.errors_by_field(exc.details), exc.status
            data = _overlay(data, request.form)
        except GradflowError as exc:
            error, status = exc, exc.status
        else:
            flash(f"已添加 {result['record']['name']} 的生源信息，状态：{result['record']['review_status']}", "success")
            return redirect(url_for("web_console.record", record_id=result["record"]["id"]))
    category = roster.category if roster is not None else "mainland"
    return render_template(
        "console/add.html", student_no=student_no, roster=roster, data=data, errors=errors, error=error,
        views={s: forms.field_views(s, category) for s, _ in forms.sections()}, sections=forms.sections(),
        read_only=records.READ_ONLY, directed_modes=",".join(forms.directed_modes()),
        major_choices=majors.choices(actor, roster.school_id, roster.college_id) if roster is not None else [],
    ), status


@bp.get("/export.xlsx")
@page(REVIEWER)
def export(actor: Actor) -> Response:
    """导出 the current filter as .xlsx, streamed."""
    filters = _filters(request.args)
    body = exports.start_export(actor, filters)
    name = quote(exports.download_name(actor, filters, "生源信息", "xlsx"))
    return current_app.response_class(
        stream_with_context(body), mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.get("/signoff.pdf")
@page(REVIEWER)
def signoff(actor: Actor) -> Response:
    """打印签字表 for the current filter (a major, a college or a keyword), in the chosen form."""
    form = request.args.get("form", "sheet")
    result, omitted = exports.signoff_for_filters(actor, _filters(request.args), form=form)
    return current_app.response_class(result.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": "inline; filename=signoff.pdf", **exports.signoff_headers(result, omitted)})


@bp.get("/records/<int:record_id>/signoff.pdf")
@page(REVIEWER)
def record_signoff(record_id: int, actor: Actor) -> Response:
    result = exports.signoff_for_record(actor, record_id, form=request.args.get("form", "sheet"))
    return current_app.response_class(result.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename=signoff-{record_id}.pdf", **exports.signoff_headers(result)})
