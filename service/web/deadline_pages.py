"""The centre's deadline page (/centre/deadline): the school deadline and resubmission window in
Beijing time, and the extensions per college / per student with add and remove forms.

Parsing the date + time fields and every rule are the deadlines service's; this view only moves
form fields in and errors out.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.errors import GradflowError, InvalidInput
from service.services import progress
from service.services.actors import Actor
from service.services.deadlines import policy, store
from service.web.common import CENTRE, page, render_error, settings

bp = Blueprint("web_deadline", __name__, url_prefix="/centre")
bp.register_error_handler(GradflowError, render_error)


def _local(prefix: str, *, required: bool) -> datetime | None:
    """The form's <prefix>_date and <prefix>_time fields (Beijing time) as aware UTC; empty date = None."""
    day, clock = request.form.get(f"{prefix}_date", ""), request.form.get(f"{prefix}_time", "")
    if not day.strip() and not required:
        return None
    try:
        return policy.from_local_fields(day, clock)
    except policy.BadInstant as exc:
        raise InvalidInput(str(exc), code="invalid_time", details={prefix: [str(exc)]}) from None


def _fields(instant: datetime | None) -> dict[str, str]:
    if instant is None:
        return {"date": "", "time": ""}
    local = instant.astimezone(policy.BEIJING)
    return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M")}


def _render(actor: Actor, error: GradflowError | None = None, form_name: str = "") -> tuple[str, int]:
    info = store.school_overview(actor.school_code or "", settings())
    return render_template(
        "centre/deadline.html", info=info, error=error, form_name=form_name, form=request.form,
        deadline_fields=_fields(info.school_deadline), resubmit_fields=_fields(info.resubmit_until),
        colleges=[c for c, _ in progress.school_units(actor.school_code or "")],
        source_labels=policy.SOURCE_LABELS, in_force={e.id for e in info.in_force()},
    ), (error.status if error else 200)


@bp.get("/deadline")
@page(CENTRE)
def deadline_page(actor: Actor) -> tuple[str, int]:
    return _render(actor)


@bp.post("/deadline")
@page(CENTRE)
def set_deadline(actor: Actor) -> Response | tuple[str, int]:
    try:
        store.set_deadline(actor, settings(), deadline=_local("deadline", required=False),
                           resubmit_until=_local("resubmit", required=False))
    except GradflowError as exc:
        return _render(actor, exc, "deadline")
    flash("截止时间已保存", "success")
    return redirect(url_for("web_deadline.deadline_page"))


@bp.post("/deadline/extensions")
@page(CENTRE)
def add_extension(actor: Actor) -> Response | tuple[str, int]:
    kind = request.form.get("kind", "")
    try:
        college = request.form.get("college_id", "")
        if kind == store.KIND_COLLEGE and not college.isdigit():
            raise InvalidInput("请选择院系", details={"college_id": ["请选择院系"]})
        store.add_extension(actor, until=_local("until", required=True), reason=request.form.get("reason", ""),
                            college_id=int(college) if kind == store.KIND_COLLEGE else None,
                            student_no=request.form.get("student_no", "") if kind == store.KIND_STUDENT else None)
    except GradflowError as exc:
        return _render(actor, exc, kind if kind in (store.KIND_COLLEGE, store.KIND_STUDENT) else store.KIND_STUDENT)
    flash("延期已添加", "success")
    return redirect(url_for("web_deadline.deadline_page"))


@bp.post("/deadline/extensions/<int:extension_id>/delete")
@page(CENTRE)
def remove_extension(extension_id: int, actor: Actor) -> Response:
    store.remove_extension(actor, extension_id)
    flash("延期已删除", "success")
    return redirect(url_for("web_deadline.deadline_page"))
