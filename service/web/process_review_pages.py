"""The review page of a process version before activation, and the activation / roll back actions.

GET /centre/processes/<id>/review?against=<version>&scope=all|chosen&school=… shows the two
diagrams coloured by the element diff, the semantic diff, the migration dry run and, for the admin,
the activation form. Activating goes through processes.review.activate_reviewed, which refuses
unless every change of a role's powers is confirmed (issue 12 defect 4): the page shows the
checkboxes, the service decides. Centre and admin see the page; only the admin activates.
"""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.errors import GradflowError, InvalidInput
from service.services import processes, schools
from service.services.actors import Actor
from service.services.processes import review as review_service
from service.web.common import ADMIN, CENTRE, page, render_error

bp = Blueprint("web_process_review", __name__, url_prefix="/centre/processes")
bp.register_error_handler(GradflowError, render_error)


def _chosen_schools() -> list[str] | None:
    """scope=chosen with school=… from the query or the form; anything else is every school."""
    if request.values.get("scope") != "chosen":
        return None
    codes = [c for c in request.values.getlist("school") if c.strip()]
    if not codes:
        raise InvalidInput("请至少选择一所学校，或选择“全部学校”", code="schools_required",
                           details={"school": ["请至少选择一所学校"]})
    return codes


def _render(version_id: int, actor: Actor, *, error: GradflowError | None = None,
            confirmed: set[str] | None = None) -> tuple[str, int]:
    against = request.values.get("against", "").strip() or None
    chosen = _chosen_schools()
    data = review_service.review(str(version_id), against_ref=against, schools=chosen)
    versions = processes.list_versions()
    diff_json = json.dumps(data.elements.to_dict(), ensure_ascii=False)
    body = render_template(
        "centre/process_review.html", review=data, version=data.version, meta=data.version.meta,
        against=data.against, versions=versions, can_deploy=actor.is_admin, diff_json=diff_json,
        all_schools=schools.list_schools(), chosen=chosen or [], scope="chosen" if chosen else "all",
        error=error, confirmed=confirmed or set(),
        current=processes.active_version_or_none(), overview=processes.activation_overview(),
    )
    return body, (error.status if error else 200)


@bp.get("/<int:version_id>/review")
@page(CENTRE, ADMIN)
def process_review(version_id: int, actor: Actor) -> tuple[str, int]:
    return _render(version_id, actor)


@bp.post("/<int:version_id>/activate")
@page(ADMIN)
def process_activate(version_id: int, actor: Actor) -> tuple[str, int] | Response:
    """Without confirm=1 nothing changes and the review page is shown (a stray click activates
    nothing); with it, the service activates only if every listed power change is confirmed."""
    if request.form.get("confirm") != "1":
        return _render(version_id, actor)
    confirmed = set(request.form.getlist("ack"))
    try:
        version = review_service.activate_reviewed(str(version_id), actor=actor, schools=_chosen_schools(),
                                                   confirmed=confirmed)
    except InvalidInput as exc:
        if exc.code not in ("confirmation_required", "schools_required", "school_not_found"):
            raise
        return _render(version_id, actor, error=exc, confirmed=confirmed)
    chosen = _chosen_schools()
    where = "、".join(chosen) if chosen else "全部学校"
    flash(f"版本 {version.id} 已对{where}启用：新的生源记录将按此流程办理", "success")
    return redirect(url_for("web_centre.process_detail", version_id=version.id))


@bp.post("/rollback")
@page(ADMIN)
def process_rollback(actor: Actor) -> Response:
    """Re-activate the previously active version (for one school, or the default); running
    instances stay on the version they are on."""
    school = request.form.get("school", "").strip() or None
    if school is not None:
        schools.get_school(school)  # 404 with a Chinese message for an unknown school
    version = processes.rollback(actor=actor, school=school)
    flash(f"已回滚：{'学校 ' + school if school else '全部学校'}重新启用版本 {version.id}", "success")
    return redirect(url_for("web_centre.process_detail", version_id=version.id))
