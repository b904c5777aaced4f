"""Per-school activation, roll back, and accounts for a version not yet active (issue 12).

A province runs many schools: one may use three levels while another uses two. New records start on
their school's active version; running instances stay on theirs; roll back re-activates the
previous version in one step. Accounts for the roles of a deployed version may be created before it
is activated (defect 8: records used to reach 一级待审 before any 一级 reviewer could exist).
"""

from __future__ import annotations

import pytest

from service.errors import InvalidInput, NotFound
from service.migrations import STEPS, upgrade
from service.models import AuditEvent, ProcessActivation, ProcessVersion
from service.services import accounts, audit, processes
from service.services.actors import Actor
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.support import reviewing
from tests.support.reviewing import login

ADMIN = Actor("root", "admin", None)


@pytest.fixture()
def world(db):
    world = reviewing.make_world()
    reviewing.user("root", "admin", None)
    for school in (world.school, world.other_school):
        reviewing.user(f"centre-{school.code}", "centre", school)
    reviewing.user("c1", "counselor", world.school, colleges=(world.c1,))
    reviewing.user("c-b", "counselor", world.other_school)
    return world


def _review(app, username: str, school: str, record_id: int) -> dict:
    api = login(app, username, school)
    r = api.post(f"/api/v1/records/{record_id}/review", json={"decision": "approve"})
    assert r.status_code == 200, (username, r.get_json())
    return r.get_json()


def test_one_school_on_three_levels_while_another_stays_on_two(app, world) -> None:
    two = processes.active_version()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    # defect 8: the 一级 account exists before activation, made by the school's centre
    centre = Actor("centre-10561", "centre", "10561")
    level1 = accounts.create_user("l1", "a-Long-pass-1", "level1", school_code="10561", creator=centre,
                                  colleges=[world.c1.name])
    assert level1.role == "level1"
    processes.activate(str(three.id), actor=ADMIN, schools=["10561"])

    assert processes.active_version("10561").id == three.id
    assert processes.active_version("10562").id == two.id and processes.active_version().id == two.id
    mine = reviewing.submitted(world, world.m1)
    theirs = reviewing.submitted(world, world.other_major)
    assert mine.instance.get().version_id == three.id and theirs.instance.get().version_id == two.id

    with_password = {"l1": "a-Long-pass-1"}
    assert _review(app, "c1", "10561", mine.id)["status_after"] == "一级待审"
    api = reviewing.Api(app.test_client(), None)
    r = api.client.post("/api/v1/auth/login", json={"username": "l1", "password": with_password["l1"],
                                                     "school_code": "10561"})
    assert r.status_code == 200
    level1_api = reviewing.Api(api.client, r.get_json()["csrf_token"])
    inbox = level1_api.get("/api/v1/records?status=一级待审").get_json()
    assert [row["id"] for row in inbox["items"]] == [mine.id]
    done = level1_api.post(f"/api/v1/records/{mine.id}/review", json={"decision": "approve"})
    assert done.status_code == 200 and done.get_json()["status_after"] == "中心待审"
    assert _review(app, "centre-10561", "10561", mine.id)["status_after"] == "完成"

    assert _review(app, "c-b", "10562", theirs.id)["status_after"] == "中心待审"
    assert _review(app, "centre-10562", "10562", theirs.id)["status_after"] == "完成"
    # 一级 is no review level of the other school: an account of that role there reviews nothing
    accounts.create_user("l1-b", "a-Long-pass-1", "level1", school_code="10562", creator=None)
    fresh = app.test_client()
    r = fresh.post("/api/v1/auth/login", json={"username": "l1-b", "password": "a-Long-pass-1",
                                                "school_code": "10562"})
    assert r.status_code == 200, r.get_json()
    assert fresh.get("/api/v1/records").status_code == 403
    assert audit.verify().ok


def test_activation_for_schools_is_audited_and_checked(world) -> None:
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    with pytest.raises(InvalidInput) as caught:
        processes.activate(str(three.id), actor=ADMIN, schools=["99999"])
    assert caught.value.code == "unknown_school" and "99999" in caught.value.message
    with pytest.raises(InvalidInput):
        processes.activate(str(three.id), actor=ADMIN, schools=[" "])
    assert processes.school_versions() == {}

    processes.activate(str(three.id), actor=ADMIN, schools=["10561", "10561"])
    event = AuditEvent.select().where(AuditEvent.action == "activate").order_by(AuditEvent.id.desc()).get()
    assert event.actor == "root" and event.data_changed == {"version_id": three.id, "schools": ["10561"]}
    assert sorted(processes.activation_overview(), key=lambda e: e["version_id"]) == [
        {"version_id": processes.active_version().id, "default": True, "schools": []},
        {"version_id": three.id, "default": False, "schools": ["10561"]},
    ]


def test_activating_for_all_schools_ends_the_schools_own_versions(world) -> None:
    two = processes.active_version()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    processes.activate(str(three.id), actor=ADMIN, schools=["10561"])
    processes.activate(str(two.id), actor=ADMIN)
    assert processes.school_versions() == {}
    assert processes.active_version("10561").id == two.id


def test_roll_back_reactivates_the_previous_version_and_running_records_stay(world) -> None:
    two = processes.active_version()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    processes.activate(str(three.id), actor=ADMIN)
    on_three = reviewing.submitted(world, world.m1)

    back = processes.rollback(actor=ADMIN)
    assert back.id == two.id and processes.active_version().id == two.id
    assert ProcessVersion.get_by_id(two.id).active and not ProcessVersion.get_by_id(three.id).active
    assert on_three.instance.get().version_id == three.id  # running instances stay where they are
    event = AuditEvent.select().where(AuditEvent.action == "rollback").get()
    assert event.data_changed == {"from_version": three.id, "version_id": two.id, "schools": "all"}
    # its 一级 level is still reviewable: the school used that version, so the role keeps its powers
    reviewing.approve(on_three, "counselor")
    assert on_three.instance.get().status == "一级待审"
    reviewing.approve(on_three, "level1")
    assert on_three.instance.get().status == "中心待审"


def test_roll_back_of_one_school_and_when_there_is_nothing_to_roll_back(world) -> None:
    two = processes.active_version()
    with pytest.raises(InvalidInput) as caught:
        processes.rollback(actor=ADMIN)
    assert caught.value.code == "nothing_to_roll_back"
    with pytest.raises(NotFound):
        processes.rollback(actor=ADMIN, school="10561")
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    processes.activate(str(three.id), actor=ADMIN, schools=["10561"])
    assert processes.rollback(actor=ADMIN, school="10561").id == two.id
    assert processes.active_version("10561").id == two.id and processes.school_versions() == {}


def test_accounts_for_roles_no_deployed_version_has_are_still_refused(world) -> None:
    centre = Actor("centre-10561", "centre", "10561")
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user("l1", "a-Long-pass-1", "level1", school_code="10561", creator=centre,
                             colleges=[world.c1.name])
    assert caught.value.code == "unknown_role"
    processes.deploy_file(THREE_LEVEL_BPMN)
    roles = dict(accounts.account_roles(centre, "10561"))
    assert roles == {"counselor": "二级用户（辅导员）", "level1": "一级用户（学院）"}


def test_the_centre_accounts_page_offers_the_roles_of_a_deployed_version(app, world) -> None:
    processes.deploy_file(THREE_LEVEL_BPMN)
    client, _ = reviewing.page_login(app, "centre-10561", "10561")
    page = client.get("/centre/accounts").get_data(as_text=True)
    assert 'value="level1"' in page and "一级用户（学院）" in page


def test_m0013_upgrades_a_database_with_an_active_version(db) -> None:
    active = processes.active_version()
    db.execute_sql("DROP TABLE process_activation")  # as it was before m0013
    db.execute_sql("DELETE FROM schema_migrations WHERE name = 'm0013_school_activation'")
    assert upgrade(db) == ["m0013_school_activation"] and "m0013_school_activation" in STEPS
    rows = list(ProcessActivation.select())
    assert [(r.school_code, r.version_id, r.current) for r in rows] == [("", active.id, True)]
    assert processes.active_version("10561").id == active.id
    assert upgrade(db) == []


def test_cli_activates_for_one_school_rolls_back_and_makes_the_new_role_account(tmp_path) -> None:
    from tests.integration.test_cli_core import gradflow

    gradflow(tmp_path, "db", "upgrade")
    gradflow(tmp_path, "school", "add", "10561", "华南理工大学")
    first = gradflow(tmp_path, "process", "deploy", str(DEFAULT_BPMN), "--activate").stdout.split()[1]
    three = gradflow(tmp_path, "process", "deploy", str(THREE_LEVEL_BPMN)).stdout.split()[1]
    # the new role's account before activation (defect 8)
    made = gradflow(tmp_path, "user", "add", "l1", "--role", "level1", "--school", "10561",
                    stdin="a-Long-pass-1\n",
                    check=False)
    assert made.returncode == 0, made.stderr
    refused = gradflow(tmp_path, "process", "activate", three, "--school", "99999", check=False)
    assert refused.returncode != 0 and "99999 不存在" in refused.stderr and "Traceback" not in refused.stderr
    unconfirmed = gradflow(tmp_path, "process", "activate", three, "--school", "10561", check=False)
    assert unconfirmed.returncode != 0 and "--confirm level_order:二级+一级+中心" in unconfirmed.stderr
    out = gradflow(tmp_path, "process", "activate", three, "--school", "10561",
                   "--confirm", "level_order:二级+一级+中心").stdout
    assert f"version {three}" in out and "for 10561" in out
    back = gradflow(tmp_path, "process", "rollback", "--school", "10561").stdout
    assert f"version {first}" in back
    nothing = gradflow(tmp_path, "process", "rollback", check=False)
    assert nothing.returncode != 0 and "没有更早启用过的版本" in nothing.stderr


def test_cli_activation_of_a_lane_move_needs_each_power_change_confirmed(tmp_path) -> None:
    """Defect 4 at the command line: moving 中心审核 into the 一级 lane makes 一级 the last level."""
    from tests.integration.test_cli_core import gradflow
    from tests.support.bpmn_edits import centre_task_into_level1

    gradflow(tmp_path, "db", "upgrade")
    gradflow(tmp_path, "process", "deploy", str(THREE_LEVEL_BPMN), "--activate")
    moved = tmp_path / "moved.bpmn"
    moved.write_bytes(centre_task_into_level1(THREE_LEVEL_BPMN.read_bytes()))
    version = gradflow(tmp_path, "process", "deploy", str(moved)).stdout.split()[1]
    refused = gradflow(tmp_path, "process", "activate", version, check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    keys = [line.split()[2] for line in refused.stderr.splitlines() if line.startswith("unconfirmed: --confirm ")]
    assert any(k.startswith("last_role:") for k in keys), refused.stderr
    assert "将能看到完整证件号码" in refused.stderr
    partly = gradflow(tmp_path, "process", "activate", version, "--confirm", keys[0], check=False)
    assert partly.returncode != 0 or len(keys) == 1
    args = [a for k in keys for a in ("--confirm", k)]
    done = gradflow(tmp_path, "process", "activate", version, *args)
    assert f"version {version}" in done.stdout and "is active" in done.stdout
