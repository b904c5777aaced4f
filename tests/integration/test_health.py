"""/healthz reports the database and the deployed process versions."""


def test_healthz_lists_database_and_active_version(client) -> None:
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
