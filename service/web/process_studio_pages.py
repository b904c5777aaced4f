"""The process studio: the admin's BPMN editor (/admin/processes/new?from=<version id>).

The page only serves the editor; the diagram comes from /centre/processes/<id>/diagram.bpmn and
checking and deploying go through the JSON API (POST /api/v1/processes/validate, POST
/api/v1/processes), so the editor runs exactly the rules deploy runs. Admin only: for every other
account the page does not exist (404), like the rest of /admin.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from service.errors import GradflowError, InvalidInput, NotFound
from service.services import processes
from service.services.actors import Actor
from service.web.common import page, render_error

bp = Blueprint("web_process_studio", __name__, url_prefix="/admin/processes")
bp.register_error_handler(GradflowError, render_error)


@bp.get("/new")
@page()
def editor(actor: Actor) -> str:
    if not actor.is_admin:
        raise NotFound("页面不存在")
    source = request.args.get("from", "").strip()
    if source and (not source.isdigit() or len(source) > 12):
        raise InvalidInput("版本号须为数字")
    version = processes.find_version(source) if source else processes.active_version()
    return render_template("admin/process_editor.html", version=version,
                           diagram_url=url_for("web_centre.process_diagram", version_id=version.id))
