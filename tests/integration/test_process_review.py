"""The review page before activation and activation through it (issue 12 defects 4 and 8).

Defect 4, the original edit: a designer drags the 中心 review task into the 一级 lane of the
three-level process. Deploy accepts it (the file is valid) and activation used to be one click,
after which 一级 accounts — college staff — saw full 证件号码 and the audit log of the whole
school. Now the server refuses activation until each such change is confirmed by name.
"""

from __future__ import annotations

import json
import re

import pytest

from service.errors import InvalidInput
from service.models import User
from service.services import processes
from service.services.actors import Actor
from service.services.processes import review as review_service
from tests.conftest import THREE_LEVEL_BPMN
from tests.support import reviewing as rv
from tests.support.bpmn_edits import centre_task_into_level1

ADMIN_ACTOR = Actor("root", "admin", None)


@pytest.fixture
def world(db):
    w = rv.make_world()
    rv.user("admin", "admin", None)
    rv.user("centre", "centre", w.school)
    rv.user("counselor", "counselor", w.school, colleges=(w.c1,))
    return w


def _admin(app) -> rv.Api:
    return rv.login(app, "admin", None)


def _post(api: rv.Api, url: str, **form) -> object:
    return api.client.post(url, data={**form, "csrf_token": api.csrf or ""})


def _lane_moved_version() -> tuple[int, int]:
    """Three levels active for every school, and the lane-moved edit deployed (not active)."""
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    processes.activate(str(three.id), actor=ADMIN_ACTOR)
    moved = processes.deploy(centre_task_into_level1(THREE_LEVEL_BPMN.read_bytes()), "moved.bpmn").version
    return three.id, moved.id


def test_review_page_shows_the_two_to_three_level_changes(app, world) -> None:
    before = processes.active_version()
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    page = _admin(app).get(f"/centre/processes/{three.id}/review")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "新增角色「一级用户（学院）」（level1）" in body
    assert "审核顺序由 二级 → 中心 变为 二级 → 一级 → 中心" in body
    assert "新增审核状态「一级待审」" in body
    # last role still 中心: the one thing to confirm is the new level order
    assert re.findall(r'name="ack" value="([^"]+)"', body) == ["level_order:二级+一级+中心"]
    diff = json.loads(re.search(r'data-diff="([^"]*)"', body).group(1).replace("&#34;", '"'))
    assert {"review_level1", "gw_review_level1", "level1"} <= set(diff["added"])
    assert "review_centre" in diff["changed"]
    assert f'data-src="/centre/processes/{before.id}/diagram.bpmn"' in body
    assert f'data-src="/centre/processes/{three.id}/diagram.bpmn"' in body
    # dry run and the schools of the activation form
    assert "试迁移" in body and 'name="school" value="10561"' in body and 'name="school" value="10562"' in body
    assert processes.active_version().id == before.id
    listing = _admin(app).get("/centre/processes").get_data(as_text=True)
    assert f'href="/centre/processes/{three.id}/review"' in listing
    assert f'href="/centre/processes/{before.id}/review"' not in listing  # the active one has nothing to review


def test_lane_move_making_another_role_last_is_refused_without_confirmation(app, world) -> None:
    three_id, moved_id = _lane_moved_version()
    api = _admin(app)
    page = api.get(f"/centre/processes/{moved_id}/review").get_data(as_text=True)
    assert "我已知悉：中心（就业指导中心） 不再是最后一级，一级用户（学院） 将能看到完整证件号码" in page
    keys = re.findall(r'name="ack" value="([^"]+)"', page)
    assert len(keys) == 3  # centre loses its level, level1 gains 中心, the last role changes

    refused = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="all")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "启用前须逐项确认以下权限变化" in text and "不再是最后一级" in text
    assert processes.active_version().id == three_id

    partly = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="all", ack=keys[:2])
    assert partly.status_code == 422 and processes.active_version().id == three_id

    done = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="all", ack=keys)
    assert done.status_code == 302
    assert processes.active_version().id == moved_id


def test_the_service_refuses_too_not_only_the_page(world) -> None:
    _, moved_id = _lane_moved_version()
    with pytest.raises(InvalidInput) as refused:
        review_service.activate_reviewed(str(moved_id), actor=ADMIN_ACTOR, schools=None, confirmed={"level_order"})
    assert refused.value.code == "confirmation_required" and refused.value.status == 422
    assert {d["key"] for d in refused.value.details} == {
        "last_role:centre:level1", "role_levels:centre:", "role_levels:level1:一级+中心"}
    assert processes.active_version().id != moved_id
    keys = [d["key"] for d in refused.value.details]
    assert review_service.activate_reviewed(str(moved_id), actor=ADMIN_ACTOR, schools=None, confirmed=keys).id == moved_id


def test_two_to_three_levels_activates_once_the_new_order_is_confirmed(app, world) -> None:
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    before = processes.active_version().id
    refused = _post(_admin(app), f"/centre/processes/{three.id}/activate", confirm="1", scope="all")
    assert refused.status_code == 422 and "二级 → 一级 → 中心" in refused.get_data(as_text=True)
    assert processes.active_version().id == before
    done = _post(_admin(app), f"/centre/processes/{three.id}/activate", confirm="1", scope="all",
                 ack=["level_order:二级+一级+中心"])
    assert done.status_code == 302 and processes.active_version().id == three.id


def test_warns_about_review_roles_without_an_account_in_the_chosen_schools(app, world) -> None:
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    api = _admin(app)
    body = api.get(f"/centre/processes/{three.id}/review").get_data(as_text=True)
    assert "一级用户（学院）在 华南理工大学（10561）还没有账号" in body
    assert "一级用户（学院）在 广州大学（10562）还没有账号" in body
    assert "二级用户（辅导员）在 广州大学（10562）还没有账号" in body
    assert "二级用户（辅导员）在 华南理工大学（10561）" not in body
    assert 'href="/centre/accounts"' in body

    rv.user("level1_a", "level1", world.school, colleges=(world.c1,))
    only = api.get(f"/centre/processes/{three.id}/review?scope=chosen&school=10561").get_data(as_text=True)
    assert "还没有账号" not in only  # counselor, level1 and centre all exist in 10561
    User.update(active=False).where(User.username == "level1_a").execute()
    again = api.get(f"/centre/processes/{three.id}/review?scope=chosen&school=10561").get_data(as_text=True)
    assert "一级用户（学院）在 华南理工大学（10561）还没有账号" in again  # a disabled account reviews nothing


def test_hostile_review_and_activation_input_is_a_chinese_4xx(app, world) -> None:
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    before = processes.active_version().id
    api = _admin(app)
    assert api.get("/centre/processes/999999/review").status_code == 404
    assert api.get(f"/centre/processes/{three.id}/review?against=999999").status_code == 404
    assert api.get(f"/centre/processes/{three.id}/review?against=abc%27--").status_code == 404
    assert api.get(f"/centre/processes/{three.id}/review?against=%00%ff").status_code == 422
    no_school = _post(api, f"/centre/processes/{three.id}/activate", confirm="1", scope="chosen")
    assert no_school.status_code == 422 and "请至少选择一所学校" in no_school.get_data(as_text=True)
    unknown = _post(api, f"/centre/processes/{three.id}/activate", confirm="1", scope="chosen", school="99999")
    assert unknown.status_code == 422 and "学校 99999 不存在" in unknown.get_data(as_text=True)
    bad_rollback = _post(api, "/centre/processes/rollback", school="<script>")
    assert bad_rollback.status_code == 404
    assert processes.active_version().id == before


def test_centre_sees_the_review_page_without_the_actions(app, world) -> None:
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    api = rv.login(app, "centre")
    body = api.get(f"/centre/processes/{three.id}/review").get_data(as_text=True)
    assert "新增角色「一级用户（学院）」" in body
    assert "确认启用版本" not in body and "回滚" not in body
    assert _post(api, f"/centre/processes/{three.id}/activate", confirm="1", scope="all").status_code == 403


def test_activation_for_chosen_schools_is_checked_against_their_own_versions(app, world) -> None:
    three_id, moved_id = _lane_moved_version()
    keys = [c.key for c in review_service.check_activation(processes.find_version(str(moved_id)), None).confirmations]
    review_service.activate_reviewed(str(moved_id), actor=ADMIN_ACTOR, schools=["10561"], confirmed=keys)
    assert processes.active_version("10561").id == moved_id
    assert processes.active_version("10562").id == three_id and processes.active_version().id == three_id
    api = _admin(app)
    # 10561 already uses the moved version: nothing changes there, nothing to confirm
    again = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="chosen", school="10561")
    assert again.status_code == 302
    # 10562 is still on three levels: the same lane move must be confirmed for it
    other = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="chosen", school="10562")
    assert other.status_code == 422 and processes.active_version("10562").id == three_id
    page = api.get(f"/centre/processes/{moved_id}/review").get_data(as_text=True)
    assert f"版本 {moved_id}（10561）" in page  # the activation overview names the school's own version
    done = _post(api, f"/centre/processes/{moved_id}/activate", confirm="1", scope="chosen", school="10562", ack=keys)
    assert done.status_code == 302 and processes.active_version("10562").id == moved_id


def test_roll_back_button_returns_to_the_previous_version(app, world) -> None:
    three_id, moved_id = _lane_moved_version()
    before = processes.active_version().id
    api = _admin(app)
    processes.activate(str(moved_id), actor=ADMIN_ACTOR, schools=["10562"])
    assert _post(api, "/centre/processes/rollback", school="10562").status_code == 302
    assert processes.active_version("10562").id == three_id
    assert _post(api, "/centre/processes/rollback", school="").status_code == 302
    assert processes.active_version().id != before  # the default went back to the two-level version


def test_dry_run_by_status_with_record_ids_and_per_school(app, world) -> None:
    for _ in range(2):
        rv.submitted(world, world.m1)
    at_centre = rv.submitted(world, world.m1)
    rv.approve(at_centre, "counselor")
    rv.submitted(world, world.other_major)
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    api = _admin(app)
    body = api.get(f"/centre/processes/{three.id}/review").get_data(as_text=True)
    section = body[body.index('id="dry-run"'):body.index('id="activate"')]
    assert "全部学校</strong>：进行中的记录迁移到版本" in section
    assert "<td>二级待审</td><td>3</td>" in section  # two of 10561, one of 10562
    assert "→ 二级待审：3 条" in section
    report = review_service.review(str(three.id)).dry_runs[0][1]
    by_status = {b.status: b for b in report.breakdown()}
    assert by_status["二级待审"].moved == 3
    centre = by_status["中心待审"]
    assert centre.total == 1
    # past 二级 the changed gateway has run: refused, naming it, with what the record still goes through
    assert centre.moved == 0 and [r.record_ids for r in centre.refusals] == [[at_centre.id]]
    assert "「审核结果」（gw_review_level2）" in section and "此后仍按版本 1：中心待审 → 完成" in section
    assert "查看记录编号（1）" in section and f"<p class=\"small\">{at_centre.id}</p>" in section
    one = api.get(f"/centre/processes/{three.id}/review?scope=chosen&school=10562").get_data(as_text=True)
    part = one[one.index('id="dry-run"'):one.index('id="activate"')]
    assert "广州大学（10562）</strong>" in part and "<td>二级待审</td><td>1</td>" in part


def test_the_version_page_migrates_one_school_only(app, world) -> None:
    two = processes.active_version()
    mine = rv.submitted(world, world.m1)
    theirs = rv.submitted(world, world.other_major)
    three = processes.deploy_file(THREE_LEVEL_BPMN).version
    api = _admin(app)
    page = api.get(f"/centre/processes/{three.id}").get_data(as_text=True)
    assert 'name="school"' in page and 'value="10562"' in page
    dry = _post(api, f"/centre/processes/{three.id}/migrate", school="10561")
    body = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "试迁移结果（10561）：可迁移 1 条" in body
    assert mine.instance.get().version_id == two.id  # a dry run changes nothing
    done = _post(api, f"/centre/processes/{three.id}/migrate", school="10561", confirm="1")
    assert done.status_code == 302
    assert mine.instance.get().version_id == three.id and theirs.instance.get().version_id == two.id
    unknown = _post(api, f"/centre/processes/{three.id}/migrate", school="99999")
    assert unknown.status_code == 404 and "99999 不存在" in unknown.get_data(as_text=True)
