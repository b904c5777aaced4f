"""Server-side sessions: logout, a password change or disabling ends them, even for a copied cookie.

Attack reproduced: the session was only Flask's signed cookie, so a cookie copied before logout
stayed valid for 8 h, writes included; and the cookie never had the Secure flag.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.models import AuditEvent, User, UserSession
from service.services import accounts
from tests.support import factories as f
from tests.support.accounts import PASSWORD, login, make_user

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def org(db):
    f.school()
    make_user("coun1", "counselor", "10561")
    return db


def _copy_cookies(source, app):
    """What a thief does: take the browser's cookies and replay them from another client."""
    thief = app.test_client()
    for name in ("session", "csrf_token"):
        thief.set_cookie(name, source.get_cookie(name).value)
    return thief, source.get_cookie("csrf_token").value


def _write(client, token: str):
    return client.post("/api/v1/records/12345/review", json={"decision": "approve"},
                       headers={"X-CSRF-Token": token})


def _assert_dead(thief, token: str) -> None:
    events = AuditEvent.select().count()
    assert thief.get("/api/v1/auth/me").status_code == 401
    assert _write(thief, token).status_code == 401
    page = thief.get("/console/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert AuditEvent.select().count() == events  # nothing written


@BOTH_DATABASES
def test_logout_ends_a_copied_cookie(app, client, org) -> None:
    token = login(client, "coun1", "10561")
    thief, csrf = _copy_cookies(client, app)
    assert thief.get("/api/v1/auth/me").status_code == 200  # the copy works while the session lives …
    assert _write(thief, csrf).status_code == 404  # … writes included (this record does not exist)
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    _assert_dead(thief, csrf)
    assert UserSession.select().where(UserSession.revoked_at.is_null()).count() == 0


def test_page_logout_ends_a_copied_cookie(app, client, org) -> None:
    client.get("/login")
    with client.session_transaction() as s:
        form_token = s["csrf"]
    assert client.post("/login", data={"csrf_token": form_token, "school_code": "10561", "username": "coun1",
                                       "password": PASSWORD}).status_code == 302
    thief, csrf = _copy_cookies(client, app)
    assert thief.get("/console/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    _assert_dead(thief, csrf)


def test_password_change_and_disabling_end_every_session(app, client, org) -> None:
    login(client, "coun1", "10561")
    thief, csrf = _copy_cookies(client, app)
    accounts.set_password(User.get(User.username == "coun1"), "another-good-pass-9")
    _assert_dead(thief, csrf)
    assert client.get("/api/v1/auth/me").status_code == 401  # the owner logs in again with the new one
    login(client, "coun1", "10561", password="another-good-pass-9")
    thief, csrf = _copy_cookies(client, app)
    accounts.set_active(User.get(User.username == "coun1"), False)
    _assert_dead(thief, csrf)
    assert accounts.revoke_sessions(User.get(User.username == "coun1")) == 0  # nothing left to revoke


def test_expired_session_is_refused(app, client, org) -> None:
    from datetime import timedelta

    from service.models import utcnow

    login(client, "coun1", "10561")
    UserSession.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_database_holds_only_a_hash_of_the_cookie_token(app, client, org) -> None:
    login(client, "coun1", "10561")
    with client.session_transaction() as s:
        token = s["sid"]
    row = UserSession.get()
    assert row.id != token and len(row.id) == 64


@pytest.mark.parametrize(("mode", "base_url", "forwarded", "proxies", "secure"), [
    ("true", "http://localhost", None, 0, True),
    ("false", "https://localhost", None, 0, False),
    ("auto", "http://localhost", None, 0, False),
    ("auto", "https://localhost", None, 0, True),
    ("auto", "http://localhost", "https", 1, True),  # behind a trusted proxy that terminates TLS
    ("auto", "http://localhost", "https", 0, False),  # the header is not trusted without trusted_proxies
])
def test_secure_flag_follows_the_setting(settings, db, mode, base_url, forwarded, proxies, secure) -> None:
    from service import create_app

    app = create_app(replace(settings, session_cookie_secure=mode, trusted_proxies=proxies))
    f.school()
    make_user("coun1", "counselor", "10561")
    client = app.test_client()
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    response = client.post("/api/v1/auth/login", base_url=base_url, headers=headers,
                           json={"username": "coun1", "password": PASSWORD, "school_code": "10561"})
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    csrf_cookie = next(c for c in cookies if c.startswith("csrf_token="))
    assert ("; Secure" in session_cookie) is secure and ("; Secure" in csrf_cookie) is secure
    assert "HttpOnly" in session_cookie


def test_bad_secure_setting_is_refused() -> None:
    from service.config import load_settings

    with pytest.raises(ValueError, match="session_cookie_secure"):
        load_settings(environ={"GRADFLOW_SESSION_COOKIE_SECURE": "sometimes"})
