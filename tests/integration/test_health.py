"""/healthz reports up/down to anyone, and the database and deployed process versions to an admin."""

from service.services.actors import ADMIN_ROLE
from tests.support.accounts import login, make_user


def test_anonymous_healthz_says_only_up_or_down(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert b"instances" not in response.data and b"waiting" not in response.data


def test_healthz_lists_database_and_active_version_to_an_admin(client) -> None:
    make_user("ops", ADMIN_ROLE, None)
    login(client, "ops", None)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"]["ok"]
    assert body["database"]["engine"] == "sqlite"
    (version,) = body["process_versions"]
    assert version["active"] and version["process_id"] == "graduate_report"
    assert body["active_version"] == version["id"]


def test_unknown_route_is_json_404(client) -> None:
    resp = client.get("/api/v1/nope")
    assert resp.status_code == 404
    assert set(resp.get_json()) == {"code", "message", "details"}


def test_ids_beyond_the_database_range_are_404_not_500(client) -> None:
    for path in ("/api/v1/roster/imports/14395971390565515264", "/api/v1/records/2147483648",
                 "/api/v1/records/99999999999999999999/history"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert resp.get_json()["code"] == "not_found"
