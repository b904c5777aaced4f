"""schemathesis over the account actions (/api/v1/accounts…) and the messages and notification
endpoints (/api/v1/messages…, /api/v1/notifications…) as the school's centre, as a counselor and as
a student: never a 5xx, whatever id, query or body is generated. Bounded for CI.

(/api/v1/auth/password and /api/v1/student/recover-password are fuzzed with the rest of auth and
student in test_openapi_fuzz_rest.py.)
"""

from __future__ import annotations

import pytest
import schemathesis

from service.models import Record
from service.services import audit
from tests.support import reviewing as rv
from tests.support.accounts import PASSWORD, make_user
from tests.support.fuzz import server_errors

MAX_EXAMPLES = 15
ACCOUNT_PATHS = r"^/api/v1/accounts"
NOTIFY_PATHS = r"^/api/v1/(messages|notifications)"


def _session(app, username: str) -> dict[str, dict[str, str]]:
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD, "school_code": "10561"})
    assert r.status_code == 200, r.get_json()
    return {"cookies": {"session": client.get_cookie("session").value},
            "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}}


@pytest.mark.parametrize("paths", [ACCOUNT_PATHS, NOTIFY_PATHS], ids=["accounts", "notify"])
def test_no_server_errors_in_the_account_and_notify_endpoints(app, db, paths: str) -> None:
    world = rv.make_world()
    record = rv.submitted(world, world.m1)
    student = make_user(record.student_no, "student", "10561")
    Record.update(user=student).where(Record.id == record.id).execute()
    make_user("coun-fuzz", "counselor", "10561", colleges=[world.c1.name])
    make_user("centre-fuzz", "centre", "10561")
    rv.reject(record, "counselor", "请补充")  # the student has a message, the centre a log row
    sessions = [_session(app, "centre-fuzz"), _session(app, "coun-fuzz"), _session(app, record.student_no)]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=paths)
    operations = [result.ok() for result in schema.get_all_operations()]
    if paths == ACCOUNT_PATHS:
        assert {op.label for op in operations} == {f"POST /api/v1/accounts/{{user_id}}/{a}"
                                                   for a in ("reset-password", "unlock", "disable", "enable")}
    else:
        assert {op.label for op in operations} >= {"GET /api/v1/messages", "POST /api/v1/messages/read",
                                                   "GET /api/v1/notifications", "POST /api/v1/notifications/retry",
                                                   "PUT /api/v1/notifications/templates/{kind}"}
    failures = server_errors(operations, sessions, MAX_EXAMPLES)
    assert failures == []
    assert audit.verify().ok
