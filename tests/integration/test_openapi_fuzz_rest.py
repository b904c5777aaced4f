"""schemathesis over the rest of /api/openapi.json (auth, codes, student, roster): never a 5xx.

The reviewer endpoints are fuzzed in test_openapi_fuzz.py; this covers every other operation,
as a bound student for /student, as the centre for /roster, and with the student's session for
the public ones. Bounded for CI: a few examples per operation.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from service.models import Record
from tests.support import reviewing as rv
from tests.support.accounts import PASSWORD, make_user

MAX_EXAMPLES = 10
OTHER_PATHS = r"^/api/v1/(auth|codes|student|roster)"


def _session(app, username: str) -> dict[str, dict[str, str]]:
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD, "school_code": "10561"})
    assert r.status_code == 200, r.get_json()
    return {"cookies": {"session": client.get_cookie("session").value},
            "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}}


def test_no_server_errors_outside_the_reviewer_api(app, db) -> None:
    world = rv.make_world()
    record = rv.unsubmitted(world, world.m1)
    student = make_user(record.student_no, "student", "10561")
    Record.update(user=student).where(Record.id == record.id).execute()
    rv.roster_student(world, world.m2)
    make_user("centre-fuzz", "centre", "10561")
    sessions = {"student": _session(app, record.student_no), "centre": _session(app, "centre-fuzz")}

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=OTHER_PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    def fuzzer(operation, session):
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            response = case.call(**session)
            statuses.setdefault(operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        return run

    for operation in operations:
        session = sessions["centre" if operation.path.startswith("/api/v1/roster") else "student"]
        try:
            fuzzer(operation, session)()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.label}: {str(exc)[:500]}")
    assert not failures, "\n".join(failures)
    # The sessions really were used: not everything was refused as unauthenticated.
    assert any(code < 400 for codes in statuses.values() for code in codes), statuses
