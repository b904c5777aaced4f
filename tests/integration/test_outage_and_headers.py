"""A database outage is a 503 with Retry-After (JSON for the API, HTML for pages); security headers
are on every response (pages, API, files)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from service import create_app
from service.config import load_settings
from service.db import bind_database, open_database
from service.migrations import upgrade
from service.services import processes
from tests.conftest import DEFAULT_BPMN
from tests.support import reviewing as rv
from tests.support.accounts import login, make_user

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(tmp_path: Path, url: str, **overrides):
    settings = load_settings(environ={}, database_url=url, instance_path=str(tmp_path / "instance"),
                             process=str(DEFAULT_BPMN), secret_key="outage-test-secret-" + "s" * 32,
                             notify_worker=False, **overrides)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def _outage_json(response) -> None:
    assert response.status_code == 503, response.data[:300]
    assert response.headers["Retry-After"].isdigit()
    body = response.get_json()
    assert body["code"] == "database_unavailable" and "数据库" in body["message"]


def test_postgresql_nobody_listens_on_is_503_with_retry_after(tmp_path: Path) -> None:
    app = _app(tmp_path, f"postgresql://gradflow:pw@127.0.0.1:{_free_port()}/gradflow")
    client = app.test_client()
    _outage_json(client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "school_code": "10561"}))
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json() == {"status": "error"}

    with client.session_transaction() as session:  # a logged-in browser: the account lookup fails
        session["sid"] = "a-token-whose-lookup-needs-the-database"
    page = client.get("/console/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"].isdigit()
    assert "数据库暂时无法访问" in page.get_data(as_text=True)
    assert "{" not in page.get_data(as_text=True).split("<body", 1)[1].split("</body>")[0]  # not raw JSON
    _outage_json(client.get("/api/v1/auth/me"))


def test_sqlite_locked_past_the_busy_timeout_is_503(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    handle = bind_database(open_database(f"sqlite:///{path}"))
    upgrade(handle)
    processes.ensure_configured_process(DEFAULT_BPMN)
    handle.close()
    app = _app(tmp_path, f"sqlite:///{path}", sqlite_busy_timeout=0.2, sqlite_checkpoint_seconds=0.0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        client = app.test_client()
        _outage_json(client.post("/api/v1/auth/login",
                                 json={"username": "a", "password": "b", "school_code": "10561"}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.submitted(w, w.m1)
    rv.user("centre", "centre", w.school)
    return w


def _secure(response, *, no_store: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                      "base-uri 'self'", "form-action 'self'"):
        assert directive in csp, csp
    if no_store:
        assert response.headers.get("Cache-Control") == "no-store", response.headers


def test_security_headers_on_pages_api_and_files(app, world) -> None:
    anonymous = app.test_client()
    _secure(anonymous.get("/login"))
    _secure(anonymous.get("/healthz"))
    _secure(anonymous.get("/api/v1/nope"))
    static = anonymous.get("/static/css/app.css")
    _secure(static, no_store=False)
    assert static.headers.get("Cache-Control") != "no-store"

    api = rv.login(app, "centre")
    from service.models import Record

    rec = Record.get(Record.major == world.m1.id)
    full = api.get(f"/api/v1/records/{rec.id}?full_id=true")
    assert full.status_code == 200 and rec.id_number in full.get_data(as_text=True)
    _secure(full)
    _secure(api.get(f"/api/v1/records/{rec.id}/signoff.pdf"))
    _secure(api.get("/api/v1/records/export.xlsx"))


def test_security_headers_on_logged_in_pages(client, world) -> None:
    make_user("centre2", "centre", "10561")
    login(client, "centre2", "10561")
    for path in ("/console/", "/centre/dashboard", "/centre/roster", "/centre/processes"):
        response = client.get(path)
        assert response.status_code == 200, path
        _secure(response)


def test_an_unexpected_error_on_a_page_is_an_html_page_not_json(app, db) -> None:
    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom-page", "boom_page", boom)
    app.add_url_rule("/api/v1/boom", "boom_api", boom)
    client = app.test_client()
    page = client.get("/boom-page", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "服务器内部错误" in page.get_data(as_text=True)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.get_json()["code"] == "internal_error"


def test_postgresql_stopped_while_serving_is_503(tmp_path: Path) -> None:
    from tests.support import postgres

    try:
        cluster = postgres.ThrowawayCluster()
        server = cluster.start()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not available: {exc}")
    stopped = False
    try:
        url = postgres.create_database(server)
        handle = bind_database(open_database(url))
        upgrade(handle)
        processes.ensure_configured_process(DEFAULT_BPMN)
        handle.close()
        app = _app(tmp_path, url)
        client = app.test_client()
        login_body = {"username": "nobody", "password": "wrong-pass", "school_code": "10561"}
        assert client.post("/api/v1/auth/login", json=login_body).status_code == 401  # up: a pooled connection
        cluster._run(str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop")
        stopped = True
        _outage_json(client.post("/api/v1/auth/login", json=login_body))
        _outage_json(client.post("/api/v1/auth/login", json=login_body))  # the next connection is refused
        assert client.get("/healthz").status_code == 503
    finally:
        from service.db import database

        if hasattr(database.obj, "close_all"):
            with contextlib.suppress(Exception):  # the server is gone
                database.obj.close_all()
        if stopped:
            shutil.rmtree(cluster.root, ignore_errors=True)
        else:
            cluster.stop()
