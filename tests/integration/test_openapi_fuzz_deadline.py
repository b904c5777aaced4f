"""schemathesis over the deadline endpoints (/api/v1/deadline…) as the school's centre: never a 5xx.

Generated bodies include malformed and out-of-range instants, huge reasons and control characters;
they must all come back as 4xx. Bounded for CI: a few examples per operation.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.support import reviewing as rv
from tests.support.accounts import PASSWORD, make_user

MAX_EXAMPLES = 25
DEADLINE_PATHS = r"^/api/v1/deadline"


def test_no_server_errors_in_the_deadline_api(app, db) -> None:
    world = rv.make_world()
    rv.roster_student(world, world.m1)
    make_user("centre-fuzz", "centre", "10561")
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": "centre-fuzz", "password": PASSWORD,
                                                 "school_code": "10561"})
    assert r.status_code == 200
    session = {"cookies": {"session": client.get_cookie("session").value},
               "headers": {"X-CSRF-Token": r.get_json()["csrf_token"]}}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex=DEADLINE_PATHS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/v1/deadline", "PUT /api/v1/deadline",
                                                "GET /api/v1/deadline/extensions", "POST /api/v1/deadline/extensions",
                                                "DELETE /api/v1/deadline/extensions/{extension_id}"}
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    def fuzzer(operation):
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            response = case.call(**session)
            statuses.setdefault(operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        return run

    for operation in operations:
        try:
            fuzzer(operation)()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n".join(failures)
    assert all(codes - {401, 403} for codes in statuses.values()), statuses
    assert any(422 in codes for codes in statuses.values()), statuses
