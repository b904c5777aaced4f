"""Throttling that holds under parallel requests and hands nobody a lockout of someone else's account.

Attacks reproduced: (1) 16 parallel wrong passwords used to get 12–19 guesses per lock window
(read-modify-write in record_failure; PostgreSQL lost increments); (2) five requests from anyone
locked any account, the centre's included; (3) /student/verify-identity answered anonymous
name/number guesses without limit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from service.models import Throttle
from tests.support import factories as f
from tests.support.accounts import PASSWORD, make_user

BOTH_DATABASES = pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def settings(settings):
    """Small limits so the tests are quick; no slow-down unless a test asks for it."""
    return replace(settings, login_address_max_failures=12, identity_max_failures=4, login_slow_seconds=0.0)


@pytest.fixture
def org(db):
    f.school()
    make_user("centre", "centre", "10561")
    make_user("coun1", "counselor", "10561")
    return db


def _login(client, username: str, password: str, address: str, school: str | None = "10561"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password,
                                                   "school_code": school},
                       environ_base={"REMOTE_ADDR": address})


@BOTH_DATABASES
def test_parallel_guesses_get_at_most_the_limit(app, org, settings) -> None:
    threads, results = 16, []
    barrier = threading.Barrier(threads)
    lock = threading.Lock()

    def guess(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = _login(client, "centre", f"wrong-password-{i}", ATTACKER)
        with lock:
            results.append(response.status_code)

    workers = [threading.Thread(target=guess, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    checked = results.count(401)  # each 401 is a password that was actually tried
    assert len(results) == threads and set(results) <= {401, 403}
    assert checked <= settings.login_max_failures, results
    assert results.count(403) == threads - checked
    # the pair is locked now, even for the right password, from the attacker's address …
    assert _login(app.test_client(), "centre", PASSWORD, ATTACKER).status_code == 403
    # … but the owner, from another address, is not locked out
    assert _login(app.test_client(), "centre", PASSWORD, OWNER).status_code == 200


@BOTH_DATABASES
def test_counter_increments_are_not_lost(org, settings) -> None:
    """The single upsert statement: N parallel bumps give exactly N, on both engines."""
    from service.services import throttle

    barrier = threading.Barrier(8)

    def bump() -> None:
        barrier.wait()
        for _ in range(5):
            throttle.count_only("test:counter", 900)

    workers = [threading.Thread(target=bump) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert Throttle.get(Throttle.key == "test:counter").failures == 40


def test_anyone_can_no_longer_lock_the_centre(client, org, settings) -> None:
    for _ in range(settings.login_max_failures):
        assert _login(client, "centre", "wrong-password", ATTACKER).status_code == 401
    locked = _login(client, "centre", PASSWORD, ATTACKER)
    assert locked.status_code == 403 and locked.get_json()["code"] == "locked"
    assert "分钟后再试" in locked.get_json()["message"]
    sixth = _login(client, "centre", PASSWORD, OWNER)  # 6th attempt, other address, right password
    assert sixth.status_code == 200 and sixth.get_json()["role"] == "centre"


def test_one_address_spraying_many_accounts_is_locked(client, org, settings) -> None:
    for i in range(settings.login_address_max_failures):
        response = _login(client, f"user{i}", "wrong-password", ATTACKER)
        assert response.status_code == 401
    sprayed = _login(client, "coun1", PASSWORD, ATTACKER)
    assert sprayed.status_code == 403 and "该网络地址" in sprayed.get_json()["message"]
    assert _login(client, "coun1", PASSWORD, OWNER).status_code == 200


def test_account_hit_from_many_addresses_is_slowed_not_locked(app, org, settings) -> None:
    app.config["GRADFLOW"] = replace(settings, login_account_slow_after=6, login_slow_seconds=0.4)
    client = app.test_client()
    for i in range(8):
        assert _login(client, "centre", "wrong-password", f"10.0.0.{i}").status_code == 401
    started = time.monotonic()
    assert _login(client, "centre", PASSWORD, OWNER).status_code == 200  # never locked …
    assert time.monotonic() - started >= 0.4  # … only slowed


def test_verify_identity_is_throttled_per_address(client, org, settings) -> None:
    bad = {"name": "张三", "id_number": "440106199001011230"}  # wrong check digit: the verifier says no
    for _ in range(settings.identity_max_failures):
        response = client.post("/api/v1/student/verify-identity", json=bad, environ_base={"REMOTE_ADDR": ATTACKER})
        assert response.status_code == 422 and response.get_json()["code"] == "identity_not_verified"
    locked = client.post("/api/v1/student/verify-identity", json=bad, environ_base={"REMOTE_ADDR": ATTACKER})
    assert locked.status_code == 403 and locked.get_json()["code"] == "locked"
    assert "实名认证失败次数过多" in locked.get_json()["message"]
    other = client.post("/api/v1/student/verify-identity", json=bad, environ_base={"REMOTE_ADDR": OWNER})
    assert other.status_code == 422  # another address still gets its own answers
