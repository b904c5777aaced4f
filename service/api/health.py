"""/healthz: is the database reachable; for a logged-in admin also which process versions are deployed.

Anonymous callers (load balancers, probes, anyone) learn only up or down: the version list carries
instance counts, which say how many students a school has and how far the review is.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from service.api.security import current_actor
from service.db import database, is_sqlite
from service.services import processes
from service.services.actors import ADMIN_ROLE

blp = Blueprint("health", __name__, url_prefix="/", description="Liveness and readiness")


@blp.route("/healthz")
@blp.doc(security=[])
def healthz():
    try:
        database.execute_sql("SELECT 1")
        db_ok = True
    except Exception:  # noqa: BLE001 - reported, not raised: this endpoint must answer
        db_ok = False
    if not db_ok or not _is_admin():
        return {"status": "ok" if db_ok else "error"}, (200 if db_ok else 503)
    versions = []
    if db_ok:
        try:
            versions = [
                {"id": v.id, "sha256": v.sha256, "process_id": v.process_id, "name": v.name, "active": v.active,
                 "instances": v.instances, "waiting": v.waiting}
                for v in processes.list_versions()
            ]
        except Exception:  # noqa: BLE001 - schema not created yet
            db_ok = False
    body = {
        "status": "ok" if db_ok else "error",
        "database": {"engine": "sqlite" if is_sqlite() else "postgresql", "ok": db_ok},
        "process_versions": versions,
        "active_version": next((v["id"] for v in versions if v["active"]), None),
    }
    return body, (200 if db_ok else 503)


def _is_admin() -> bool:
    try:
        actor = current_actor()
    except Exception:  # noqa: BLE001 - schema not created yet: nobody is logged in
        return False
    return actor is not None and actor.role == ADMIN_ROLE
