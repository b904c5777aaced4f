"""Login, logout, who-am-I, throttling of repeated failures, and CSRF on state changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.models import Throttle, utcnow
from tests.support import factories as f
from tests.support.accounts import PASSWORD, login, make_user


@pytest.fixture
def accounts_db(db):
    f.school()
    f.school("10562", "别的大学")
    make_user("coun1", "counselor", "10561")
    make_user("ops", "admin", None)
    return db


def _login(client, username: str, password: str, school_code: str | None = "10561"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password,
                                                   "school_code": school_code})


def test_login_ok_sets_session_and_csrf_cookie(client, accounts_db) -> None:
    response = _login(client, "coun1", PASSWORD)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["username"], body["role"], body["school_code"]) == ("coun1", "counselor", "10561")
    assert body["csrf_token"] and client.get_cookie("csrf_token").value == body["csrf_token"]
    me = client.get("/api/v1/auth/me").get_json()
    assert me["username"] == "coun1" and me["csrf_token"] == body["csrf_token"]


def test_admin_logs_in_without_school(client, accounts_db) -> None:
    assert _login(client, "ops", PASSWORD, None).get_json()["role"] == "admin"


@pytest.mark.parametrize(("username", "password", "school"), [
    ("coun1", "wrong-password", "10561"),
    ("nobody", PASSWORD, "10561"),
    ("coun1", PASSWORD, "10562"),  # right user, other school
    ("coun1", PASSWORD, None),
])
def test_bad_credentials_are_refused_alike(client, accounts_db, username, password, school) -> None:
    response = _login(client, username, password, school)
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "bad_credentials" and body["message"] == "用户名、学校代码或密码不正确"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_malformed_login_is_a_4xx(client, accounts_db) -> None:
    assert client.post("/api/v1/auth/login", data="not json", content_type="application/json").status_code in (400, 422)
    response = client.post("/api/v1/auth/login", json={"username": "coun1"})
    assert response.status_code == 422 and "password" in response.get_json()["details"]
    assert client.post("/api/v1/auth/login", json=["x"]).status_code == 422


def test_repeated_failures_lock_the_account(client, accounts_db, settings) -> None:
    for attempt in range(settings.login_max_failures):
        response = _login(client, "coun1", "wrong-password")
        assert response.status_code == 401
        assert response.get_json()["details"]["attempts_left"] == settings.login_max_failures - attempt - 1
    locked = _login(client, "coun1", PASSWORD)  # even the right password
    assert locked.status_code == 403 and locked.get_json()["code"] == "locked"
    assert 0 < locked.get_json()["details"]["retry_after_seconds"] <= settings.login_lock_seconds
    # the lock is per (school, username): another account is not affected
    make_user("coun2", "counselor", "10561")
    assert _login(client, "coun2", PASSWORD).status_code == 200


def test_expired_lock_starts_a_fresh_count(client, accounts_db, settings) -> None:
    for _ in range(settings.login_max_failures):
        _login(client, "coun1", "wrong-password")
    assert _login(client, "coun1", PASSWORD).status_code == 403
    Throttle.update(locked_until=utcnow() - timedelta(seconds=1)).execute()  # the lock ran out
    again = _login(client, "coun1", "wrong-password")
    assert again.status_code == 401
    assert again.get_json()["details"]["attempts_left"] == settings.login_max_failures - 1
    assert _login(client, "coun1", PASSWORD).status_code == 200
    # success clears the (account, address) counter; the shared address / account counters only give
    # back this attempt's slot (they never reset, so a valid login does not buy guesses elsewhere)
    assert not Throttle.select().where(Throttle.key.startswith("login:")).exists()


def test_success_resets_the_failure_count(client, accounts_db, settings) -> None:
    for _ in range(settings.login_max_failures - 1):
        _login(client, "coun1", "wrong-password")
    assert _login(client, "coun1", PASSWORD).status_code == 200
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": client.get_cookie("csrf_token").value})
    assert _login(client, "coun1", "wrong-password").get_json()["details"]["attempts_left"] == \
        settings.login_max_failures - 1


def test_csrf_refused_without_header_accepted_with_it(client, accounts_db) -> None:
    token = login(client, "coun1", "10561")
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403 and refused.get_json()["code"] == "csrf_failed"
    wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token + "x"})
    assert wrong.status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200  # still logged in
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_new_login_gets_a_new_csrf_token(client, accounts_db) -> None:
    first = login(client, "coun1", "10561")
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": first})
    second = login(client, "coun1", "10561")
    assert second != first
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": first}).status_code == 403


def test_cli_adds_school_and_users(db, settings, monkeypatch) -> None:
    from click.testing import CliRunner

    from service.cli import main
    from service.config import get_settings
    from service.models import School, User, UserScope

    monkeypatch.setenv("GRADFLOW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GRADFLOW_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["school", "add", "10561", "华南理工大学"]).exit_code == 0
        assert runner.invoke(main, ["school", "add", "10561", "again"]).exit_code != 0
        assert runner.invoke(main, ["school", "add", "1056", "短"]).exit_code != 0
        f.college(School.get_by_id("10561"), "计算机学院")
        ok = runner.invoke(main, ["user", "add", "coun1", "--role", "counselor", "--school", "10561",
                                  "--college", "计算机学院"], input=PASSWORD + "\n")
        assert ok.exit_code == 0, ok.output
        bad_role = runner.invoke(main, ["user", "add", "x", "--role", "dean", "--school", "10561"],
                                 input=PASSWORD + "\n")
        assert bad_role.exit_code != 0 and "counselor" in bad_role.output and "centre" in bad_role.output
        weak = runner.invoke(main, ["user", "add", "y", "--role", "centre", "--school", "10561"], input="short\n")
        assert weak.exit_code != 0
        assert runner.invoke(main, ["user", "add", "ops", "--role", "admin"], input=PASSWORD + "\n").exit_code == 0
    finally:
        get_settings.cache_clear()
    user = User.get(User.username == "coun1")
    assert user.role == "counselor" and UserScope.select().where(UserScope.user == user).count() == 1
    assert School.get_by_id("10561").name == "华南理工大学"
    assert {u.username for u in User.select()} == {"coun1", "ops"}
