"""schemathesis over the process endpoints (/api/v1/processes…) as the admin (who may use them)
and as the school's centre (to whom they do not exist): never a 5xx, and nothing is activated."""

from __future__ import annotations

import schemathesis

from service.services import audit, processes
from tests.integration.test_openapi_fuzz_accounts_notify import _session
from tests.support import reviewing as rv
from tests.support.accounts import PASSWORD, make_user
from tests.support.fuzz import server_errors

MAX_EXAMPLES = 25


def test_no_server_errors_in_the_process_endpoints(app, db) -> None:
    rv.make_world()
    make_user("centre-fuzz", "centre", "10561")
    make_user("root-fuzz", "admin", None)
    active = processes.active_version().id
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": "root-fuzz", "password": PASSWORD,
                                                 "school_code": None})
    assert r.status_code == 200, r.get_json()
    admin = {"cookies": {"session": client.get_cookie("session").value},
             "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}}
    sessions = [admin, _session(app, "centre-fuzz")]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=r"^/api/v1/processes")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"POST /api/v1/processes", "POST /api/v1/processes/validate"}
    failures = server_errors(operations, sessions, MAX_EXAMPLES)
    assert failures == []
    assert processes.active_version().id == active
    assert audit.verify().ok
