"""/admin/processes/new, the process studio: the admin's page only; for every other account it does
not exist (404, like the rest of /admin), anonymous visitors go to the login page. Which version it
opens is the `from` parameter (default: the active version); a bad `from` is a Chinese 4xx, not a 500.
"""

from __future__ import annotations

import pytest

from service.services import processes
from service.services.actors import ADMIN_ROLE
from tests.support import accounts as acc
from tests.support import factories as f


@pytest.fixture
def school(db):
    sch = f.school()
    f.major(f.college(sch))
    return sch


def _client(app, username: str, role: str, school_code: str | None, **kwargs):
    acc.make_user(username, role, school_code, **kwargs)
    client = app.test_client()
    acc.login(client, username, school_code)
    return client


def test_only_the_admin_sees_the_editor(app, school) -> None:
    d = processes.active_definition()[1]
    others = {
        "student": _client(app, "stu", d.submitter_role, "10561"),
        "counselor": _client(app, "coun", d.reviewer_roles[0], "10561", colleges=["计算机学院"]),
        "centre": _client(app, "cen", d.school_wide_role, "10561"),
    }
    for who, client in others.items():
        for url in ("/admin/processes/new", "/admin/processes/new?from=1"):
            response = client.get(url)
            assert response.status_code == 404, (who, url, response.status_code)
            assert "studio" not in response.get_data(as_text=True)
    anonymous = app.test_client().get("/admin/processes/new")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    admin = _client(app, "root", ADMIN_ROLE, None)
    page = admin.get("/admin/processes/new")
    html = page.get_data(as_text=True)
    active = processes.active_version()
    assert page.status_code == 200
    assert f'data-src="/centre/processes/{active.id}/diagram.bpmn"' in html
    assert "vendor/bpmn-studio/process-studio.js" in html and "js/process-editor.js" in html
    assert "<script>" not in html  # CSP: no inline scripts


def test_from_picks_the_version_and_bad_values_are_refused_in_chinese(app, school) -> None:
    admin = _client(app, "root", ADMIN_ROLE, None)
    active = processes.active_version()
    assert f"/centre/processes/{active.id}/diagram.bpmn" in admin.get(f"/admin/processes/new?from={active.id}").get_data(as_text=True)
    missing = admin.get("/admin/processes/new?from=9999")
    assert missing.status_code == 404 and "流程版本 9999 不存在" in missing.get_data(as_text=True)
    for bad in ("abc", "1;drop", "9" * 40, "-1"):
        response = admin.get("/admin/processes/new", query_string={"from": bad})
        assert response.status_code == 422, (bad, response.status_code)
        assert "版本号须为数字" in response.get_data(as_text=True)


def test_version_pages_link_to_the_editor_for_the_admin_only(app, school) -> None:
    active = processes.active_version()
    admin = _client(app, "root", ADMIN_ROLE, None)
    editor_link = f"/admin/processes/new?from={active.id}"
    assert editor_link in admin.get("/centre/processes").get_data(as_text=True)
    assert editor_link in admin.get(f"/centre/processes/{active.id}").get_data(as_text=True)
    centre = _client(app, "cen", processes.active_definition()[1].school_wide_role, "10561")
    assert "/admin/processes/new" not in centre.get("/centre/processes").get_data(as_text=True)
    assert "/admin/processes/new" not in centre.get(f"/centre/processes/{active.id}").get_data(as_text=True)
