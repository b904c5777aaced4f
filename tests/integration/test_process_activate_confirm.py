"""Activating a process version is a two-step action: the server refuses an unconfirmed POST.

The original steps: an admin on /centre/processes/<id> clicked 启用此版本 once and every school's
new records started on the other process, with no confirmation at all.
"""

from __future__ import annotations

from service.services import accounts, processes
from tests.conftest import THREE_LEVEL_BPMN
from tests.integration.test_web_pages import PASSWORD, _token, org  # noqa: F401 - the fixture is used by name


def _admin(client) -> str:
    accounts.create_user("root", PASSWORD, "admin", school_code=None, creator=None)
    token = _token(client)
    r = client.post("/login", data={"csrf_token": token, "school_code": "", "username": "root", "password": PASSWORD})
    assert r.status_code == 302
    with client.session_transaction() as session:
        return str(session["csrf"])


def test_activate_needs_a_confirmed_second_post(client, org) -> None:  # noqa: F811
    before = processes.active_version()
    new = processes.deploy_file(THREE_LEVEL_BPMN).version
    csrf = _admin(client)
    page = client.get(f"/centre/processes/{new.id}").get_data(as_text=True)
    assert "启用此版本" in page and 'name="confirm"' not in page.split("启用此版本")[0].rsplit("<form", 1)[1]

    first = client.post(f"/centre/processes/{new.id}/activate", data={"csrf_token": csrf})
    body = first.get_data(as_text=True)
    assert first.status_code == 200
    assert f"确认启用版本 {new.id}" in body and f"当前启用的版本 {before.id}" in body
    assert processes.active_version().id == before.id  # nothing changed yet

    wrong = client.post(f"/centre/processes/{new.id}/activate", data={"csrf_token": csrf, "confirm": "yes"})
    assert wrong.status_code == 200 and processes.active_version().id == before.id

    done = client.post(f"/centre/processes/{new.id}/activate", data={"csrf_token": csrf, "confirm": "1",
                                                                    "ack": "level_order:二级+一级+中心"})
    assert done.status_code == 302
    assert processes.active_version().id == new.id


def test_unconfirmed_activate_still_needs_csrf_and_admin(client, org) -> None:  # noqa: F811
    new = processes.deploy_file(THREE_LEVEL_BPMN).version
    before = processes.active_version()
    _admin(client)
    refused = client.post(f"/centre/processes/{new.id}/activate", data={"confirm": "1"})
    assert refused.status_code == 403
    assert processes.active_version().id == before.id
