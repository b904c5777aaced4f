"""The process studio in a real Chromium: the bpmn-js Modeler with gradflow's properties group.

- every shipped file, opened in the editor and exported unchanged, is the same version (no new one);
- an admin turns the two-level process into a three-level one through the properties panel (shapes
  are created with the modeling API, every gradflow property through the panel's inputs), sees the
  server's problems until the panel is complete, deploys without activating, lands on the review page;
- the page runs under the CSP without a violation.
The tests share one server and run in file order.
"""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from playwright.sync_api import expect

from service.cli.demo import prepare_demo
from service.config import PROJECT_ROOT
from service.models import ProcessVersion
from service.services import processes
from tests.browser.conftest import login, nav, new_page, screenshot
from tests.browser.test_csp import _watch

pytestmark = pytest.mark.browser

SHIPPED = sorted((PROJECT_ROOT / "bpmn").glob("*.bpmn"))
STATE: dict[str, Any] = {}  # what a test leaves for the next (the deployed three-level version)


@pytest.fixture(scope="module")
def demo(live_server):
    return prepare_demo(live_server.settings, students=12, colleges=1, majors=2, unbound=2)


def _admin(browser, live_server, demo):
    page = new_page(browser)
    problems = _watch(page)
    login(page, live_server.url, "", demo.admin, demo.password)
    return page, problems


def _open_editor(page, base: str, version_id: int | None = None) -> None:
    page.goto(f"{base}/admin/processes/new" + (f"?from={version_id}" if version_id else ""))
    page.wait_for_selector("#studio[data-loaded='1']")


def _wait_checked(page) -> None:
    """Until the server has answered the check of the diagram as it is now."""
    page.wait_for_function("() => document.getElementById('studio').dataset.checked")


def _problems(page) -> list[str]:
    _wait_checked(page)
    return page.locator("#studio-problems li").all_inner_texts()


def _save_xml(page) -> str:
    return page.evaluate("async () => (await window.gradflowStudio.saveXML({format: true})).xml")


def _post(page, url: str, body: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate("""async ([url, body]) => {
        const csrf = document.querySelector('meta[name=csrf-token]').content;
        const r = await fetch(url, {method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}});
        return {status: r.status, data: await r.json()};
    }""", [url, body])


def test_every_shipped_file_exported_unchanged_is_the_same_version(live_server, browser, demo) -> None:
    page, console = _admin(browser, live_server, demo)
    for path in SHIPPED:
        deployed = processes.deploy(path.read_bytes(), path.name, activate=False).version
        before = ProcessVersion.select().count()
        _open_editor(page, live_server.url, deployed.id)
        exported = _save_xml(page)
        answer = _post(page, "/api/v1/processes", {"bpmn": exported, "source_name": path.name})
        if answer["data"].get("id") != deployed.id:
            diff = "\n".join(difflib.unified_diff(path.read_text(encoding="utf-8").splitlines(), exported.splitlines(),
                                                  "shipped", "exported", lineterm="", n=1))
            print(f"--- {path.name}: bpmn-js export differs from the shipped file:\n{diff}")
        assert answer["status"] == 200, answer
        assert answer["data"]["created"] is False and answer["data"]["id"] == deployed.id, answer
        assert ProcessVersion.select().count() == before
    assert console == [], console
    page.context.close()


# The shapes of the new 一级 level, made with the modeling API (as a designer drags them from the
# palette): a lane below the counselor's, a user task and a gateway in it, the 二级 approve flow
# reconnected to the new task, and the new gateway's two outgoing flows. Nothing here sets a
# gradflow property: that is the panel's job, below.
ADD_LEVEL_SHAPES = """() => {
    const m = window.gradflowStudio;
    const registry = m.get('elementRegistry'), modeling = m.get('modeling');
    const lane = modeling.addLane(registry.get('counselor'), 'bottom');
    const participant = registry.get('Participant_graduate_report');
    const midY = lane.y + lane.height / 2;
    const task = modeling.createShape({type: 'bpmn:UserTask'}, {x: 870, y: midY}, participant);
    const gateway = modeling.createShape({type: 'bpmn:ExclusiveGateway'}, {x: 1010, y: midY}, participant);
    const approve2 = registry.get('flow_gw_review_level2_approve');
    modeling.reconnectEnd(approve2, task, {x: task.x, y: task.y + task.height / 2});
    modeling.connect(task, gateway);
    const approve1 = modeling.connect(gateway, registry.get('review_centre'));
    const reject1 = modeling.connect(gateway, registry.get('revise_report'));
    return {lane: lane.id, task: task.id, gateway: gateway.id, approve: approve1.id, reject: reject1.id};
}"""


def _select(page, element_id: str, *, gradflow: bool = True) -> None:
    page.evaluate("""(id) => { const m = window.gradflowStudio;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)
    if gradflow:
        page.wait_for_selector("[data-group-id='group-gradflow']")
    else:
        page.wait_for_selector("[data-group-id='group-gradflow']", state="detached")


def _until(page, element_id: str, condition: str) -> None:
    """Until the model (not only the input) holds the edit: `condition` is JS over the element's `bo`.
    The panel writes after its debounce; once the model has changed, the page has dropped every
    older check, so the next answer describes the diagram with this edit."""
    page.wait_for_function(
        "(id) => { const el = window.gradflowStudio.get('elementRegistry').get(id);"
        f" const bo = el && el.businessObject; return !!bo && ({condition}); }}", arg=element_id)


def _has_property(name: str, value: str) -> str:
    return (f"((bo.extensionElements && bo.extensionElements.values) || []).some(v => (v.properties || [])"
            f".some(p => p.name === {name!r} && p.value === {value!r}))")


def _fill(page, entry: str, value: str) -> None:
    """Type into a properties-panel field (by its entry id) as a designer does, then leave it."""
    field = page.locator(f"#bio-properties-panel-{entry}")
    field.fill(value)
    field.press("Tab")


def _set_property(page, element_id: str, name: str, value: str) -> None:
    _fill(page, f"gradflow-{name}", value)
    _until(page, element_id, _has_property(name, value))


def _choose(page, entry: str, value: str) -> None:
    page.locator(f"#bio-properties-panel-{entry}").select_option(value)


def _open_general(page) -> None:
    header = page.locator("[data-group-id='group-general'] .bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_admin_adds_a_first_level_through_the_panel_and_deploys_without_activating(live_server, browser,
                                                                                   demo) -> None:
    two_level = processes.active_version()
    assert [lv["level"] for lv in two_level.meta["levels"]] == ["二级", "中心"]
    versions_before = ProcessVersion.select().count()
    page, console = _admin(browser, live_server, demo)
    _open_editor(page, live_server.url, two_level.id)
    assert _problems(page) == []
    assert page.locator("#studio-ok").is_visible() and page.locator("#studio-deploy").is_enabled()

    ids = page.evaluate(ADD_LEVEL_SHAPES)
    problems = _problems(page)
    text = "\n".join(problems)
    assert problems and ids["lane"] in text and ids["task"] in text, problems  # generated lane id, task without status …
    assert page.locator("#studio-deploy").is_disabled()
    assert page.locator(f"g.djs-element.gf-problem[data-element-id='{ids['task']}']").count() == 1
    screenshot(page, "studio-problems")
    # A click on a problem selects its element (and the panel shows it).
    page.locator(f"#studio-problems button[data-element-id='{ids['task']}']").first.click()
    assert page.evaluate("() => window.gradflowStudio.get('selection').get().map(e => e.id)") == [ids["task"]]

    # The lane: its role key and display name.
    _select(page, ids["lane"])
    _fill(page, "gradflow-lane-id", "level1")
    _until(page, "level1", "bo.$type === 'bpmn:Lane'")
    _fill(page, "gradflow-lane-name", "一级用户（院系）")
    _until(page, "level1", "bo.name === '一级用户（院系）'")
    # The task: name (常规), status label, action, level, report status.
    _select(page, ids["task"])
    _open_general(page)
    _fill(page, "name", "一级审核")
    _until(page, ids["task"], "bo.name === '一级审核'")
    _set_property(page, ids["task"], "status", "一级待审")
    _choose(page, "gradflow-action", "review")
    _until(page, ids["task"], _has_property("action", "review"))
    _set_property(page, ids["task"], "level", "一级")
    _set_property(page, ids["task"], "report_status", "已提交")
    remaining = _problems(page)
    print("after the task's properties:", remaining)
    assert remaining and all(ids["task"] not in p for p in remaining), remaining  # the gateway's flows still lack a decision
    # The new gateway's flows: 审核结果 instead of a condition.
    for flow, decision in ((ids["approve"], "approve"), (ids["reject"], "reject")):
        _select(page, flow)
        _choose(page, "gradflow-decision", decision)
        _until(page, flow, f"!!bo.conditionExpression && bo.conditionExpression.body === 'decision == \"{decision}\"'")
    # The counselor's and the centre's 代为提交 of a returned report: the new level may do it too.
    _select(page, "revise_report")
    assert page.locator("#bio-properties-panel-gradflow-on_behalf_roles").input_value() == "counselor centre"
    _set_property(page, "revise_report", "on_behalf_roles", "counselor level1 centre")
    assert _problems(page) == [], _problems(page)
    assert page.locator("#studio-ok").is_visible() and page.locator("#studio-deploy").is_enabled()
    assert page.locator(".gf-problem").count() == 0  # the markers went with the problems (also the renamed lane's)
    screenshot(page, "studio-editor")

    exported = _save_xml(page)
    assert '<bpmn:lane id="level1" name="一级用户（院系）">' in exported
    assert '<spiffworkflow:property name="level" value="一级" />' in exported
    assert 'decision == "approve"' in exported and 'decision == "reject"' in exported

    with page.expect_navigation():
        page.locator("#studio-deploy").click()
    version_id = int(page.url.split("/centre/processes/")[1].split("/")[0])
    deployed = ProcessVersion.get_by_id(version_id)
    assert ProcessVersion.select().count() == versions_before + 1
    assert not deployed.active and processes.active_version().id == two_level.id  # deployed, not activated
    assert [(lv["level"], lv["role"]) for lv in deployed.meta["levels"]] == [
        ("二级", "counselor"), ("一级", "level1"), ("中心", "centre")]
    assert {"role": "level1", "name": "一级用户（院系）"} in deployed.meta["lanes"]
    assert deployed.meta["tasks"]["revise_report"]["on_behalf_roles"] == ["counselor", "level1", "centre"]
    STATE["three_level"] = version_id
    assert console == [], console
    page.context.close()


def test_the_panel_keeps_bad_role_keys_and_unknown_roles_out_of_the_model(live_server, browser, demo, tmp_path) -> None:
    page = new_page(browser, downloads=True)
    console = _watch(page)
    login(page, live_server.url, "", demo.admin, demo.password)
    _open_editor(page, live_server.url)
    assert _problems(page) == []
    _select(page, "counselor")
    field = page.locator("#bio-properties-panel-gradflow-lane-id")
    for bad, says in (("二级", "字母开头"), ("Lane_0abc123", "自动生成"), ("centre", "已有元素")):
        field.fill(bad)
        expect(page.locator("[data-entry-id='gradflow-lane-id'] .bio-properties-panel-error")).to_contain_text(says)
    page.wait_for_timeout(700)  # longer than the panel's debounce: nothing was written
    assert page.evaluate("() => !!window.gradflowStudio.get('elementRegistry').get('counselor')")
    field.fill("counselor")
    _select(page, "fill_report")  # a submit task offers 代为提交; a review task does not
    assert page.locator("#bio-properties-panel-gradflow-on_behalf_roles").count() == 1
    assert page.locator("#bio-properties-panel-gradflow-level").count() == 0
    page.locator("#bio-properties-panel-gradflow-on_behalf_roles").fill("counselor dean")
    expect(page.locator("[data-entry-id='gradflow-on_behalf_roles'] .bio-properties-panel-error")).to_contain_text(
        "没有这些泳道：dean")
    _select(page, "review_level2")
    assert page.locator("#bio-properties-panel-gradflow-on_behalf_roles").count() == 0
    assert page.locator("#bio-properties-panel-gradflow-level").input_value() == "二级"
    _select(page, "flow_start", gradflow=False)  # not leaving a gateway: no 审核结果
    assert page.locator("#bio-properties-panel-gradflow-decision").count() == 0
    _select(page, "end")
    assert page.locator("#bio-properties-panel-gradflow-status").input_value() == "完成"
    # 下载 BPMN gives the diagram as it is in the editor, unchanged here.
    with page.expect_download() as info:
        page.locator("#studio-download").click()
    saved = tmp_path / "download.bpmn"
    info.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == _save_xml(page)
    assert "fill_report" in saved.read_text(encoding="utf-8") and "dean" not in saved.read_text(encoding="utf-8")
    assert console == [], console
    page.context.close()


def _new_submitted_record(school_code: str):
    """A record created now (so it starts on its school's active version), submitted by its student."""
    from service.models import College, Major, Record, School
    from service.services.demo_data import Generator
    from tests.support import reviewing

    school = School.get_by_id(school_code)
    major = Major.select().join(College).where(College.school == school_code).order_by(Major.id).first()
    world = reviewing.World(school, school, major.college, major.college, major, major, major, major,
                            Generator(seed=hash(school_code) % 1000))
    return reviewing.submitted(world, major, student_no=f"29{school_code}{Record.select().count():05d}")


def _review_in_the_console(browser, base: str, school: str, username: str, password: str, record_id: int,
                           expected: str) -> None:
    page = new_page(browser)
    problems = _watch(page)
    login(page, base, school, username, password)
    page.goto(f"{base}/console/records/{record_id}")
    page.check("input[name=decision][value=approve]")
    with page.expect_navigation():
        page.click("button:text('提交审核')")
    assert expected in page.locator(".flash").inner_text(), page.locator(".flash").inner_text()
    assert problems == [], problems
    page.context.close()


def test_the_edited_version_goes_to_one_school_and_its_records_pass_the_new_level(live_server, browser,
                                                                                 demo) -> None:
    """The rest of the issue's flow: semantic diff, the new role's account, activation for one school
    with the confirmation, then 二级 → 一级 → 中心 there while another school keeps 二级 → 中心."""
    from service.models import User
    from service.services import demo_data, schools

    version_id = STATE.get("three_level")
    assert version_id, "runs after the editor test, which deploys the three-level version"
    base = live_server.url
    two_level = processes.active_version()
    schools.add_school("10599", "另一所学院")
    demo_data.seed_school("10599", "另一所学院", students=3, colleges=1, majors=1, seed=9)
    demo_data.create_accounts("10599", demo.password)

    # The admin reviews the deployed version: the semantic diff names the new role and level.
    page, console = _admin(browser, live_server, demo)
    page.goto(f"{base}/centre/processes/{version_id}/review")
    page.wait_for_selector("#diagram-new[data-rendered='1']")
    diff = page.locator("#semantic-diff").inner_text()
    assert "新增角色「一级用户（院系）」（level1）" in diff, diff
    assert "新增审核层级「一级」" in diff and "二级 → 一级 → 中心" in diff, diff
    gaps = page.locator("#account-gaps").inner_text()
    assert "一级用户（院系）在" in gaps and demo.school_code in gaps, gaps
    screenshot(page, "studio-review")

    # The school's centre creates the new role's account before activation (defect 8).
    centre = new_page(browser)
    login(centre, base, demo.school_code, demo.centre, demo.password)
    centre.goto(f"{base}/centre/accounts")
    assert centre.locator("select[name=role] option[value=level1]").count() == 1
    centre.fill("input[name=username]", "level1a")
    centre.fill("input[name=display_name]", "一级审核员")
    centre.select_option("select[name=role]", "level1")
    centre.fill("input[name=password]", demo.password)
    centre.fill("input[name=password2]", demo.password)
    centre.locator("input[name=college]").first.check()
    with centre.expect_navigation():
        centre.click("form button[type=submit]:text('创建')")
    assert "已创建账号 level1a" in centre.content()
    assert User.get(User.username == "level1a").role == "level1"
    centre.context.close()

    # Activation for that school only, with the confirmation naming the change.
    page.goto(f"{base}/centre/processes/{version_id}/review")
    page.check("input[name=scope][value=chosen]")
    page.check(f"input[name=school][value='{demo.school_code}']")
    nav(page, "#activate button[type=submit]")  # unconfirmed: refused, nothing activated
    assert "启用前须逐项确认" in page.content()
    assert processes.active_version(demo.school_code).id == two_level.id
    confirmations = page.locator("#confirmations").inner_text()
    assert "二级 → 一级 → 中心" in confirmations, confirmations
    page.check(f"input[name=school][value='{demo.school_code}']")
    for box in page.locator("#confirmations input[name=ack]").all():
        box.check()
    nav(page, "#activate button[type=submit]")
    assert f"已对{demo.school_code}启用" in page.content()
    assert processes.active_version(demo.school_code).id == version_id
    assert processes.active_version("10599").id == two_level.id == processes.active_version().id
    assert [p for p in console if "status of 422" not in p] == [], console  # the refusal page is a 422
    page.context.close()

    # A new record of that school: 二级 → 一级 → 中心; one of the other school: 二级 → 中心.
    mine = _new_submitted_record(demo.school_code)
    theirs = _new_submitted_record("10599")
    assert mine.instance.get().version_id == version_id and theirs.instance.get().version_id == two_level.id
    counselor_of_mine = User.get((User.school == demo.school_code) & (User.username == "counselor")).username
    _review_in_the_console(browser, base, demo.school_code, counselor_of_mine, demo.password, mine.id,
                           "二级待审 → 一级待审")
    _review_in_the_console(browser, base, demo.school_code, "level1a", demo.password, mine.id, "一级待审 → 中心待审")
    _review_in_the_console(browser, base, demo.school_code, demo.centre, demo.password, mine.id, "中心待审 → 完成")
    _review_in_the_console(browser, base, "10599", "counselor", demo.password, theirs.id, "二级待审 → 中心待审")
    _review_in_the_console(browser, base, "10599", "centre", demo.password, theirs.id, "中心待审 → 完成")
