"""Who may create whom: each role only the review levels below its own, in its school; admin only by CLI.

Attack reproduced: the centre's accounts page passed any lane role *or admin* to create_user, so a
centre account (or anyone holding its session) could mint an admin and take over every school.
"""

from __future__ import annotations

import pytest

from service.errors import PermissionDenied
from service.models import User
from service.services import accounts, processes
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import factories as f
from tests.support.accounts import PASSWORD, make_user


def _page_token(client) -> str:
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf"]


def _page_login(client, username: str, school: str | None = "10561") -> None:
    response = client.post("/login", data={"csrf_token": _page_token(client), "school_code": school or "",
                                           "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _create_via_page(client, role: str, username: str = "newbie", college: int | None = None):
    with client.session_transaction() as session:
        token = session["csrf"]
    data = {"csrf_token": token, "username": username, "role": role, "password": PASSWORD, "password2": PASSWORD}
    if college is not None:
        data["college"] = str(college)
    return client.post("/centre/accounts", data=data)


@pytest.fixture
def process_file():
    return THREE_LEVEL_BPMN


@pytest.fixture
def school_org(db):
    sch = f.school()
    f.school("10562", "别的大学")
    col = f.college(sch, "计算机学院")
    other = f.college(sch, "外国语学院")
    make_user("centre", "centre", "10561")
    make_user("l1", "level1", "10561", colleges=[col.name])
    make_user("coun", "counselor", "10561", colleges=[col.name])
    make_user("ops", "admin", None)
    return {"school": sch, "col": col, "other": other}


@pytest.mark.parametrize("role", ["admin", "centre", "level1"])
def test_centre_page_refuses_admin_and_own_or_higher_level(client, school_org, role) -> None:
    """The centre is the last (school-wide) level: it may create level1 and counselor, nothing else."""
    _page_login(client, "centre")
    before = User.select().count()
    if role == "level1":  # level1 is below the centre: allowed (the control case)
        assert _create_via_page(client, role, college=school_org["col"].id).status_code == 302
        assert User.get(User.username == "newbie").role == "level1"
        return
    response = _create_via_page(client, role)
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert ("管理员账号只能由运维人员在命令行创建" in text) if role == "admin" else ("您无权创建" in text)
    assert User.select().count() == before
    assert not User.select().where(User.username == "newbie").exists()


def test_centre_page_offers_only_lower_levels(client, school_org) -> None:
    _page_login(client, "centre")
    page = client.get("/centre/accounts").get_data(as_text=True)
    assert 'value="counselor"' in page and 'value="level1"' in page
    assert 'value="centre"' not in page and 'value="admin"' not in page


def test_service_rule_for_every_level(school_org) -> None:
    """The service enforces the rule for any caller (page, API, CLI), not only the page."""
    _, d = processes.active_definition()
    centre = f.actor("centre", school_org["school"])
    level1 = f.actor("level1", school_org["school"], colleges=(school_org["col"].id,))
    counselor = f.actor("counselor", school_org["school"])
    admin = f.actor("admin", None)
    assert accounts.creatable_roles(centre, d) == ["counselor", "level1"]
    assert accounts.creatable_roles(level1, d) == ["counselor"]
    assert accounts.creatable_roles(counselor, d) == []
    assert accounts.creatable_roles(admin, d) == ["counselor", "level1", "centre"]
    assert "admin" in accounts.creatable_roles(None, d)
    before = User.select().count()
    refused = [
        (level1, "level1", "10561", ()), (level1, "centre", "10561", ()),  # own level, higher level
        (level1, "counselor", "10561", ()),  # restricted creator: a whole-school counselor exceeds its scope
        (level1, "counselor", "10561", ("外国语学院",)),  # a college outside its grants
        (counselor, "counselor", "10561", ()), (centre, "counselor", "10562", ()),  # another school
        (centre, "admin", None, ()), (admin, "admin", None, ()),  # admin only from the CLI
        (f.actor("student", school_org["school"]), "counselor", "10561", ()),
    ]
    for creator, role, school, colleges in refused:
        with pytest.raises(PermissionDenied) as info:
            accounts.create_user("x1", PASSWORD, role, school_code=school, creator=creator, colleges=colleges)
        assert info.value.status == 403 and info.value.message
    assert User.select().count() == before
    ok = accounts.create_user("x2", PASSWORD, "counselor", school_code="10561", creator=level1,
                              colleges=["计算机学院"])
    assert ok.role == "counselor"
    assert accounts.create_user("x3", PASSWORD, "centre", school_code="10562", creator=admin).role == "centre"


def test_cli_still_creates_admin(db, settings, monkeypatch) -> None:
    from click.testing import CliRunner

    from service.cli import main
    from service.config import get_settings

    monkeypatch.setenv("GRADFLOW_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["user", "add", "root2", "--role", "admin"], input=PASSWORD + "\n")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert User.get(User.username == "root2").role == "admin"
