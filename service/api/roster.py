"""Roster import for the centre: upload, per-row report as JSON, and the report as .xlsx."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, request, send_file
from flask_smorest import Blueprint

from service.api.security import login_required
from service.errors import InvalidInput
from service.services import roster, roster_report
from service.services.actors import ADMIN_ROLE, Actor
from service.services.review_scope import centre_role
from service.services.roster_xlsx import ReadLimits

blp = Blueprint("roster", __name__, url_prefix="/api/v1/roster", description="Roster (学籍) import")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def importer_roles(actor: Actor | None = None) -> list[str]:
    """The centre (the role of the last review level, whole-school) and admin import rosters."""
    return [centre_role(actor), ADMIN_ROLE]


@blp.route("/import", methods=["POST"])
@login_required(importer_roles)
def import_file(actor: Actor) -> tuple[dict[str, Any], int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("请选择要上传的学籍文件", details={"file": ["必填"]})
    settings = current_app.config["GRADFLOW"]
    year_raw = (request.form.get("year") or str(settings.graduation_year)).strip()
    if not year_raw.isdigit():
        raise InvalidInput("毕业年份不正确", details={"year": ["应为四位年份，如2021"]})
    school_code = (request.form.get("school_code") or actor.school_code or "").strip()
    if not school_code:
        raise InvalidInput("请指定学校代码", details={"school_code": ["必填"]})
    data = upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise InvalidInput("上传的文件过大", details={"file": ["文件过大"]})
    report = roster.import_roster(data, upload.filename, school_code=school_code, year=int(year_raw), actor=actor,
                                  limits=ReadLimits.from_settings(settings))
    return report.as_dict(), 201


@blp.route("/imports")
@login_required(importer_roles)
def list_imports(actor: Actor) -> dict[str, Any]:
    return {"imports": [r.as_dict(rows=False) for r in roster.list_imports(actor)]}


@blp.route("/imports/<int:import_id>")
@login_required(importer_roles)
def get_import(import_id: int, actor: Actor) -> dict[str, Any]:
    return roster.get_import(import_id, actor).as_dict()


@blp.route("/imports/<int:import_id>/report.xlsx")
@login_required(importer_roles)
def report_xlsx(import_id: int, actor: Actor):
    report = roster.get_import(import_id, actor)
    return send_file(io.BytesIO(roster_report.report_xlsx(report)), mimetype=XLSX, as_attachment=True,
                     download_name=f"roster-import-{report.school_code}-{report.id}.xlsx")
