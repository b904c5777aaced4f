"""Run schemathesis over some operations as several sessions, collecting every failure (no 5xx)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


def server_errors(operations: list[Any], sessions: list[dict[str, dict[str, str]]], max_examples: int) -> list[str]:
    """Each operation as each session (cookies + headers); the failures, one line per operation."""
    failures: list[str] = []

    def fuzzer(operation: Any, session: dict[str, dict[str, str]]) -> Any:
        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(**session)
            case.validate_response(response, checks=[not_a_server_error])

        return run

    for session in sessions:
        for operation in operations:
            try:
                fuzzer(operation, session)()
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
                failures.append(f"{operation.label}: {str(exc)[:500]}")
    return failures
