"""流程一致性检查 (/audit/conformance): one school's histories replayed against its BPMN, on a page.

The centre checks its own school; an admin or the province picks a school. Every school at once
is `gradflow audit conform`, run nightly, not a request.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from service.errors import GradflowError
from service.services import schools
from service.services.actors import Actor
from service.services.audit_trail.filters import require_reader
from service.services.conformance.replay import KINDS
from service.services.conformance.run import conform_for
from service.web.common import page, render_error

bp = Blueprint("web_conformance", __name__, url_prefix="/audit")
bp.register_error_handler(GradflowError, render_error)


@bp.get("/conformance")
@page()
def conformance(actor: Actor) -> str:
    require_reader(actor)  # the audit trail's readers; 404 for anyone else, as /audit
    chooses = actor.is_admin or actor.is_province
    wanted = request.args.get("school", "")[:16]
    choices = [(s.code, s.name) for s in schools.list_schools()] if chooses else []
    result = code = None
    if not chooses or wanted:
        code, result = conform_for(actor, wanted)
    return render_template("audit/conformance.html", result=result, school=code, schools=choices,
                           chooses=chooses, kinds=KINDS)
