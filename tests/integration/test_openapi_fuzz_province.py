"""schemathesis over the province's operations (/api/v1/province/…) as the province: never a 5xx.

Bounded for CI: a few examples per operation (the export streams a workbook each time).
"""

from __future__ import annotations

import schemathesis

from service.models import AuditEvent
from tests.support import reviewing as rv
from tests.support.fuzz import server_errors
from tests.support.province import make_province

MAX_EXAMPLES = 15


def test_no_server_errors_in_the_province_api(app, db) -> None:
    make_province()
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": "sheng", "password": rv.PASSWORD, "school_code": ""})
    assert r.status_code == 200, r.get_json()
    session = {"cookies": {"session": client.get_cookie("session").value},
               "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=r"^/api/v1/province/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 3
    failures = server_errors(operations, [session], MAX_EXAMPLES)
    assert not failures, "\n".join(failures)
    # The session really was used: some export went through (and was audited).
    assert AuditEvent.select().where(AuditEvent.action == "export").count() > 0
