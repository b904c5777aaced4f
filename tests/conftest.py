"""Fixtures: real SQLite files and a real PostgreSQL (throwaway cluster), the app, and its client.

Tests ask for `db` (SQLite unless parametrized with db_url="postgres"); `app`/`client` build on it.
Outside CI a missing PostgreSQL skips the PostgreSQL variants; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings, load_settings
from service.db import bind_database, database, open_database
from service.migrations import upgrade
from service.services import processes
from tests.support import postgres

DEFAULT_BPMN = PROJECT_ROOT / "bpmn" / "graduate_report.bpmn"
THREE_LEVEL_BPMN = PROJECT_ROOT / "bpmn" / "graduate_report_three_level.bpmn"
# create_app refuses short or published keys (DESIGN §7); every test app uses this long one.
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url = os.environ.get("GRADFLOW_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        cluster = postgres.ThrowawayCluster()
        server = cluster.start()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    cluster.stop()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'gradflow.db'}"
        return
    server = request.getfixturevalue("pg_server")
    url = postgres.create_database(server)
    yield url
    if not database.is_closed():
        database.close()
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()
    postgres.drop_database(server, url)


@pytest.fixture
def process_file() -> Path:
    """The BPMN the test's database starts new records on; override to test another process."""
    return DEFAULT_BPMN


@pytest.fixture
def settings(db_url: str, tmp_path: Path, process_file: Path) -> Settings:
    return load_settings(
        environ={}, database_url=db_url, instance_path=str(tmp_path / "instance"), process=str(process_file),
        secret_key=TEST_SECRET_KEY, login_lock_seconds=900, notify_worker=False,
    )


@pytest.fixture
def db(settings: Settings, request: pytest.FixtureRequest):
    """A fresh, migrated database with the configured process deployed and active.

    After the test, every audit chain it wrote must still verify (`gradflow audit verify`) and every
    record's history must conform to its BPMN (`gradflow audit conform`), unless the test is marked
    audit_tampered: whatever a test does through the product keeps the chains whole and the diagram kept.
    """
    from service.services import audit, notify

    handle = bind_database(open_database(settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout))
    audit.use_key(settings)
    notify.configure(settings)
    upgrade(handle)
    processes.ensure_configured_process(settings.process_path)
    yield handle
    if request.node.get_closest_marker("audit_tampered") is None and _passed(request):
        audit.use_key(settings)
        result = audit.verify()
        assert result.ok, f"audit verify after the test: {[(p.chain_key, p.kind) for p in result.problems[:5]]}"
        from service.services.conformance.run import conform

        conformed = conform(keep=5)
        assert conformed.ok, f"audit conform after the test: {[(x.record_id, x.message) for x in conformed.findings]}"
    if not handle.is_closed():
        handle.close()


def _passed(request: pytest.FixtureRequest) -> bool:
    """Only a test that passed is checked (a failing one already says what broke)."""
    report = getattr(request.node, "rep_call", None)
    return report is not None and report.passed


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def app(settings: Settings, db):
    from service import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()
