"""The centre's pages: progress dashboard, roster upload, reviewer accounts, process versions.

Deploying, activating and migrating process versions changes every school of the deployment, so
those actions are the admin's (DESIGN.md §1); the centre sees the versions and their diagrams.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.errors import GradflowError, InvalidInput, NotFound, ProcessValidationError
from service.services import accounts, processes, progress, schools
from service.services import roster as roster_service
from service.services import roster_report as roster_report_service
from service.services.actors import Actor
from service.services.chase.states import chase_states
from service.services.deadlines import store as deadline_store
from service.services.processes import migration
from service.services.roster_xlsx import ReadLimits
from service.web.analytics_pages import analytics_context
from service.web.common import (
    ADMIN,
    CENTRE,
    active_definition,
    page,
    render_error,
    settings,
    status_kinds,
)
from service.workflow.definitions import ProcessDefinition

bp = Blueprint("web_centre", __name__, url_prefix="/centre")
bp.register_error_handler(GradflowError, render_error)


# --- dashboard -------------------------------------------------------------------------------

@bp.get("/dashboard")
@page(CENTRE, ADMIN)
def dashboard(actor: Actor) -> tuple[str, int]:
    d = active_definition()
    s = settings()
    data = progress.school_progress(actor, list(d.statuses), s.graduation_year)
    info = deadline_store.school_overview(actor.school_code, s) if actor.school_code else None
    limit = info.deadline if info else deadline_store.default_deadline(s)
    left, passed = progress.time_left(limit.isoformat() if limit else "")
    analytics = analytics_context(actor, request.args)
    error = analytics["analytics_error"]
    reviewers = progress.reviewer_accounts(actor.school_code, d.reviewer_roles) if actor.school_code else []
    return render_template("centre/dashboard.html", progress=data, time_left=left, deadline_passed=passed,
                           deadline=limit, deadline_info=info, colours=_colours(d, data.statuses),
                           count_url=None if actor.is_admin else _count_url(d),
                           units=progress.school_units(actor.school_code or ""), reviewers=reviewers,
                           schools=[(s.code, s.name) for s in schools.list_schools()] if actor.is_admin else [],
                           **analytics), (error.status if error else 200)


def _count_url(d: ProcessDefinition) -> Callable[..., str]:
    """count_url(state, college_id) for a dashboard count: its chase list, or the records list for
    statuses nobody is chased for (完成); state None is every record, "done" the completed ones."""
    chased = {s.label for s in chase_states()}
    done = [end["status"] for end in d.meta.get("ends", {}).values()]

    def count_url(state: str | None, college_id: int | None = None) -> str:
        if state in chased:
            return url_for("web_chase.chase_page", state=state, college=college_id)
        statuses = done if state == "done" else ([state] if state else [])
        return url_for("web_console.index", review_status=statuses, college=college_id)

    return count_url


def _colours(d: ProcessDefinition, statuses: list[str]) -> dict[str, str]:
    """Chart colour class per status: green done, red sent back, grey draft, warm hues for review levels."""
    kinds = status_kinds(d)
    fixed = {"done": "c5", "rejected": "c4", "draft": "c6"}
    review_hues = iter(["c1", "c2", "c3", "c7"] * 4)
    return {s: fixed.get(kinds.get(s, ""), "") or next(review_hues) for s in statuses}


# --- reviewer accounts -----------------------------------------------------------------------

@bp.route("/accounts", methods=["GET", "POST"])
@page(CENTRE)
def accounts_page(actor: Actor) -> str | Response | tuple[str, int]:
    """The school's reviewer accounts with their college / major scopes; the form creates one."""
    d = active_definition()
    # The roles of the school's version and of deployed ones not yet active (accounts before activation);
    # the service enforces the same rule on create.
    role_labels = dict(accounts.account_roles(actor, actor.school_code))
    roles = list(role_labels)
    error: GradflowError | None = None
    form = request.form
    if request.method == "POST":
        password = form.get("password", "")
        try:
            if password != form.get("password2", ""):
                raise InvalidInput("两次输入的密码不一致", details={"password2": ["两次输入的密码不一致"]})
            college_ids = {int(x) for x in form.getlist("college") if x.isdigit()}
            major_ids = {int(x) for x in form.getlist("major") if x.isdigit()}
            units = progress.school_units(actor.school_code or "")
            colleges = [c.name for c, _ in units if c.id in college_ids]
            majors = [m.code for _, ms in units for m in ms if m.id in major_ids]
            user = accounts.create_user(
                form.get("username", "").strip(), password, form.get("role", ""), school_code=actor.school_code,
                creator=actor, colleges=colleges, majors=majors,
                display_name=form.get("display_name", "").strip(),
            )
        except GradflowError as exc:
            error = exc
        else:
            flash(f"已创建账号 {user.username}", "success")
            return redirect(url_for("web_centre.accounts_page"))
    rows = progress.reviewer_accounts(actor.school_code or "", roles)
    return render_template("centre/accounts.html", accounts=rows, roles=list(role_labels.items()),
                           units=progress.school_units(actor.school_code or ""), error=error, form=form,
                           role_label=lambda r: role_labels.get(r) or d.role_label(r),
                           scope_hint=_scope_hint(d, role_labels)), (error.status if error else 200)


def _scope_hint(d: ProcessDefinition, role_labels: dict[str, str]) -> str:
    """The accounts form says up front that the levels below the centre need a college or major."""
    below = [label for r, label in role_labels.items() if r != d.school_wide_role]
    return f"{'、'.join(below)}账号只能审核所选院系或专业的学生；不再默认为全校。" if below else ""


# --- roster upload ---------------------------------------------------------------------------

@bp.route("/roster", methods=["GET", "POST"])
@page(CENTRE)
def roster(actor: Actor) -> str | tuple[str, int]:
    """Upload a roster file; the per-row outcome table comes straight from the import service."""
    report = None
    error: GradflowError | None = None
    year = settings().graduation_year
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise InvalidInput("请选择要上传的学籍文件（.xlsx 或 .csv）")
            report = roster_service.import_roster(upload.read(), upload.filename, school_code=actor.school_code or "",
                                                  year=year, actor=actor,
                                                  limits=ReadLimits.from_settings(settings()))
        except GradflowError as exc:
            error = exc
    elif request.args.get("import", "").isdigit():
        report = roster_service.get_import(int(request.args["import"]), actor)
    history = roster_service.list_imports(actor, limit=10)
    return render_template("centre/roster.html", report=report, error=error, year=year, history=history,
                           outcome_labels=roster_service.OUTCOME_LABELS), (error.status if error else 200)


@bp.get("/roster/<int:import_id>/report.xlsx")
@page(CENTRE)
def roster_report(import_id: int, actor: Actor) -> Response:
    report = roster_service.get_import(import_id, actor)
    body = roster_report_service.report_xlsx(report)
    return current_app.response_class(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=roster-import-{import_id}.xlsx"})


# --- process versions ------------------------------------------------------------------------

@bp.get("/processes")
@page(CENTRE, ADMIN)
def process_versions(actor: Actor) -> str:
    versions = processes.list_versions()
    active = next((v for v in versions if v.active), None)
    return render_template("centre/processes.html", versions=versions, active=active, can_deploy=actor.is_admin)


@bp.get("/processes/<int:version_id>")
@page(CENTRE, ADMIN)
def process_detail(version_id: int, actor: Actor) -> str:
    version = processes.find_version(str(version_id))
    versions = processes.list_versions()
    summary = next(v for v in versions if v.id == version.id)
    return render_template("centre/process_detail.html", version=version, summary=summary, meta=version.meta,
                           all_schools=schools.list_schools() if actor.is_admin else [],
                           can_deploy=actor.is_admin, versions=versions, dry_run=None)


# A deployed file is data, never a page on our origin: served as a plain-text download that the
# browser may neither sniff nor render, with a CSP that forbids everything should it be rendered
# anyway. The diagram viewer fetches it and parses the text (static/js/diagram.js), which these
# headers do not affect. Deployment also refuses markup outside the BPMN namespaces (definitions.py).
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@bp.get("/processes/<int:version_id>/diagram.bpmn")
@page(CENTRE, ADMIN)
def process_diagram(version_id: int, actor: Actor) -> Response:
    version = processes.find_version(str(version_id))
    response = current_app.response_class(version.bpmn_xml.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response.headers.update(DOWNLOAD_HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="process-{version.id}.bpmn"'
    return response


@bp.post("/processes/deploy")
@page(ADMIN)
def process_deploy(actor: Actor) -> Response | tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("请选择 BPMN 文件")
    try:
        result = processes.deploy(upload.read(), upload.filename, actor=actor, activate=False)
    except ProcessValidationError as exc:
        versions = processes.list_versions()
        return render_template("centre/processes.html", versions=versions, can_deploy=True,
                               active=next((v for v in versions if v.active), None),
                               refused=exc.problems, refused_file=upload.filename), 422
    flash(f"已部署版本 {result.version.id}" if result.created else f"该文件已部署过（版本 {result.version.id}）",
          "success")
    return redirect(url_for("web_centre.process_detail", version_id=result.version.id))


@bp.post("/processes/<int:version_id>/migrate")
@page(ADMIN)
def process_migrate(version_id: int, actor: Actor) -> str | Response:
    """Dry run first (shows what would move and what is refused); the real run needs confirm=1."""
    version = processes.find_version(str(version_id))
    confirm = request.form.get("confirm") == "1"
    school = request.form.get("school", "").strip()[:10] or None
    report = migration.migrate(str(version.id), dry_run=not confirm, actor=actor, school=school)
    if confirm:
        where = f"（{school}）" if school else ""
        flash(f"迁移完成{where}：{report.migrated} 条已迁移，{report.refused_total} 条未迁移", "success")
        return redirect(url_for("web_centre.process_detail", version_id=version.id))
    versions = processes.list_versions()
    summary = next((v for v in versions if v.id == version.id), None)
    if summary is None:
        raise NotFound()
    return render_template("centre/process_detail.html", version=version, summary=summary, meta=version.meta,
                           all_schools=schools.list_schools() if actor.is_admin else [],
                           can_deploy=True, versions=versions, dry_run=report)
