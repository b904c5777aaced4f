"""The whole round trip in a real Chromium, against the app served over HTTP on a fresh SQLite file.

A student binds, fills the three steps, fails validation, submits; the counselor batch-approves
the student's major; the centre rejects with a comment; the student sees it, revises and
resubmits; 编辑 is refused once 完成; an export downloads and opens in openpyxl. The tests share
one server and run in file order (each builds on the state the previous one left).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from service.cli.demo import prepare_demo
from service.models import College, Major, ProcessInstance, Record, RosterStudent, User, UserScope
from service.services import roster
from service.services.actors import Actor
from service.validation.identity import make_resident_id
from tests.browser.conftest import login, nav, new_page, screenshot

pytestmark = pytest.mark.browser

STATE: dict[str, Any] = {}
PASSWORD = "student-pass-1"


@pytest.fixture(scope="module")
def demo(live_server):
    logins = prepare_demo(live_server.settings, students=120, colleges=2, majors=4, unbound=16)
    counselor = User.get((User.username == logins.counselor) & (User.school == logins.school_code))
    college_id = UserScope.get(UserScope.user == counselor).college_id
    # A mainland roster student of the counselor's college who has not bound yet, not 定向/委培.
    candidates = (RosterStudent.select()
                  .where((RosterStudent.school == logins.school_code) & RosterStudent.eligible
                         & (RosterStudent.category == "mainland") & (RosterStudent.college == college_id))
                  .order_by(RosterStudent.student_no))
    student = next(s for s in candidates
                   if not Record.select().where(Record.student == s.id).exists()
                   and (s.fields or {}).get("training_mode") not in ("2", "4"))
    major = Major.get_by_id(student.major_id)
    hmt_roster = ("学号,姓名,性别,证件类型,证件号码,学生类别,国籍,考生号,院系,专业代码,专业,班级,学历,学制,入学年月,毕业日期,"
                  "培养方式,学习形式,学籍状态,能否正常毕业\n"
                  f"20179990001,陳嘉欣,2,02,H12345678,港澳台,中国,,{College.get_by_id(college_id).name},{major.code},"
                  f"{major.name},,31,4,201709,20210630,1,普通全日制,在籍,是\n")
    report = roster.import_roster(hmt_roster.encode("utf-8"), "hmt.csv", school_code=logins.school_code, year=2021,
                                  actor=Actor(username="test", role="system", school_code=logins.school_code))
    assert report.counts["imported"] == 1, report.rows
    STATE.update(school=logins.school_code, password=logins.password, counselor=logins.counselor,
                 centre=logins.centre, student_no=student.student_no, name=student.name,
                 id_number=student.id_number, major=major,
                 college=College.get_by_id(college_id))
    return logins


def _status_of(student_no: str) -> str:
    return (ProcessInstance.select(ProcessInstance.status).join(Record)
            .where(Record.student_no == student_no).scalar())


def _pick_region(page, field: str, province: str, city: str, county: str) -> None:
    picker = page.locator(f"[data-field='{field}'] [data-region-picker]")
    picker.locator("select[data-level='0']").select_option(label=province)
    picker.locator(f"select[data-level='1'] option:text-is('{city}')").wait_for(state="attached")
    picker.locator("select[data-level='1']").select_option(label=city)
    picker.locator(f"select[data-level='2'] option:text-is('{county}')").wait_for(state="attached")
    picker.locator("select[data-level='2']").select_option(label=county)


def test_student_binds_fills_fails_validation_and_submits(live_server, browser, demo):
    base = live_server.url
    page = new_page(browser, phone=True)
    page.goto(f"{base}/login")
    nav(page, "a:text('学生实名认证与学籍绑定')")
    screenshot(page, "student-01-choose-category")
    nav(page, "#choose-mainland")
    # 实名认证 with a wrong number first: the check says why, in Chinese.
    page.fill("input[name=name]", STATE["name"])
    page.fill("input[name=id_number]", STATE["id_number"][:-1] + ("0" if STATE["id_number"][-1] != "0" else "1"))
    nav(page, "button:text('开始验证')")
    assert page.locator(".field-error").first.is_visible()
    page.fill("input[name=id_number]", STATE["id_number"])
    nav(page, "button:text('开始验证')")
    # 学籍绑定: a wrong 学号 is refused with the part that did not match.
    page.fill("input[name=school_code]", STATE["school"])
    page.fill("input[name=student_no]", "19990000000")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    nav(page, "button:text('绑定')")
    assert "学号不存在" in page.locator(".alert.error").inner_text()
    page.fill("input[name=student_no]", STATE["student_no"])
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    nav(page, "button:text('绑定')")
    assert "绑定成功" in page.content()
    assert page.locator("#review-status").inner_text() == "未提交"
    nav(page, "a:text('马上完善信息')")

    # 学校: roster fields are read-only; 定向委培单位 is locked for a 非定向 student.
    assert page.locator("#f-school-student_no").get_attribute("readonly") is not None
    assert not page.locator("[name='school.directed_unit']").is_editable()
    page.select_option("[name='school.normal_type']", "2")
    screenshot(page, "student-02-school-390x844", full_page=False)
    nav(page, "button:text-is('下一步')")

    # 个人: region picker province → city → county from the code tables.
    page.select_option("[name='personal.ethnicity']", "01")
    page.select_option("[name='personal.political']", "03")
    _pick_region(page, "personal.origin_region", "广东省", "广州市", "天河区")
    page.select_option("[name='personal.urban_rural']", "1")
    page.select_option("[name='personal.hardship']", "0")
    screenshot(page, "student-03-personal-390x844", full_page=False)
    nav(page, "button:text-is('下一步')")

    # 其他: a bad phone number fails with an inline Chinese error, the draft is not saved.
    assert page.locator("[data-field='other.current_hukou_region']").count() == 1  # mainland: asked
    page.check("input[name='other.hukou_moved'][value='否']")
    page.check("input[name='other.archive_moved'][value='是']")
    _pick_region(page, "other.current_hukou_region", "广东省", "广州市", "天河区")
    page.fill("[name='other.phone']", "12345")
    page.fill("[name='other.home_address']", "广州市天河区五山路381号")
    nav(page, "button:text-is('提交')")
    error = page.locator("[data-field='other.phone'] .field-error")
    assert "手机号码格式不正确" in error.inner_text()
    screenshot(page, "student-04-other-error-390x844", full_page=True)
    # Fixed phone, but no e-mail: the submit itself refuses and names the missing field.
    page.fill("[name='other.phone']", "13812345678")
    nav(page, "button:text-is('提交')")
    assert "电子邮箱" in page.locator("[data-field='other.email']").inner_text()
    assert _status_of(STATE["student_no"]) == "未提交"
    page.fill("[name='other.email']", "student@example.edu.cn")
    nav(page, "button:text-is('提交')")
    assert "提交成功" in page.content()
    assert page.locator("#review-status").inner_text() == "二级待审"
    assert page.locator("#report-status").inner_text() == "已提交"
    screenshot(page, "student-05-submitted-390x844", full_page=False)
    assert _status_of(STATE["student_no"]) == "二级待审"
    page.context.close()


def test_hmt_student_binds_without_identity_check_and_is_not_asked_for_hukou(live_server, browser, demo):
    page = new_page(browser, phone=True)
    page.goto(f"{live_server.url}/student/start")
    nav(page, "#choose-hmt")
    assert page.locator("input[name=name]").is_editable()  # no 实名认证 step for 港澳台 students
    page.fill("input[name=school_code]", STATE["school"])
    page.fill("input[name=student_no]", "20179990001")
    page.fill("input[name=name]", "陳嘉欣")
    page.select_option("select[name=id_type]", "02")
    page.fill("input[name=id_number]", "H12345678")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    screenshot(page, "student-07-hmt-bind-390x844", full_page=False)
    nav(page, "button:text('绑定')")
    assert "绑定成功" in page.content()
    page.goto(f"{live_server.url}/student/report/other")
    assert page.locator("[data-field='other.phone']").count() == 1
    assert page.locator("[data-field='other.current_hukou_region']").count() == 0
    assert "现户口所在地" not in page.locator("#report-form").inner_text()
    page.context.close()


def test_counselor_batch_approves_the_major(live_server, browser, demo):
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["counselor"], STATE["password"])
    assert "/console/" in page.url
    major = STATE["major"]
    row = page.locator(f".sidebar li:has(input[value='{major.id}'])")
    pending_before = int(row.locator(".count").inner_text())
    assert pending_before >= 1
    screenshot(page, "console-01-counselor", full_page=False)
    row.locator("input[type=checkbox]").check()
    page.click("button:text('批量审核专业')")
    dialog = page.locator("#batch-dialog")
    assert dialog.is_visible()
    assert f"共 {pending_before} 条" in dialog.inner_text()
    nav(page, dialog.locator("button[value=ok]"))
    flash = page.locator(".flash").inner_text()
    assert f"成功 {pending_before} 条" in flash, flash
    assert page.locator(f".sidebar li:has(input[value='{major.id}']) .count").inner_text() == "0"
    assert _status_of(STATE["student_no"]) == "中心待审"
    page.context.close()


def test_centre_rejects_one_with_a_comment(live_server, browser, demo):
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["centre"], STATE["password"])
    nav(page, ".topnav >> text=生源管理")
    page.fill("input[name=q]", STATE["student_no"])
    nav(page, "button:text('查询')")
    rows = page.locator("#records-table tbody tr")
    assert rows.count() == 1
    nav(page, rows.first.locator("a:text-is('审核')"))
    screenshot(page, "console-04-review", full_page=False)
    # 不通过 without a comment is stopped in the page, with the notice's wording.
    page.check("input[name=decision][value=reject]")
    page.click("button:text('提交审核')")
    assert page.locator("#review-comment-error").is_visible()
    assert "请输入审核意见" in page.locator("#review-comment-error").inner_text()
    page.fill("textarea[name=comment]", "生源所在地与户籍不符，请核对")
    nav(page, "button:text('提交审核')")
    assert "中心待审 → 不同意" in page.locator(".flash").inner_text()
    assert _status_of(STATE["student_no"]) == "不同意"
    # 审核记录 shows both decisions.
    page.fill("input[name=q]", STATE["student_no"])
    nav(page, "button:text('查询')")
    nav(page, page.locator("#records-table tbody tr").first.locator("a:text-is('审核')"))
    nav(page, "a[role=tab]:text('审核记录')")
    history = page.locator("#history").inner_text()
    assert "不通过" in history and "生源所在地与户籍不符" in history and "通过" in history
    screenshot(page, "console-02-history", full_page=False)
    page.context.close()


def test_student_sees_the_comment_revises_and_resubmits(live_server, browser, demo):
    page = new_page(browser, phone=True)
    login(page, live_server.url, STATE["school"], STATE["student_no"], PASSWORD)
    assert page.locator("#review-status").inner_text() == "不同意"
    assert "生源所在地与户籍不符，请核对" in page.locator("#rejection").inner_text()
    assert "生源所在地与户籍不符" in page.locator("#history").inner_text()
    screenshot(page, "student-06-rejected-390x844", full_page=True)
    nav(page, "a:text('修改并重新提交')")
    nav(page, ".steps >> text=个人")
    _pick_region(page, "personal.origin_region", "广东省", "深圳市", "南山区")
    nav(page, "button:text-is('下一步')")
    nav(page, "button:text-is('提交')")
    assert "提交成功" in page.content()
    assert page.locator("#review-status").inner_text() == "二级待审"
    assert _status_of(STATE["student_no"]) == "二级待审"
    origin = Record.get(Record.student_no == STATE["student_no"]).origin_region
    assert origin == "440305"
    page.context.close()


def test_edit_is_refused_once_complete(live_server, browser, demo):
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["centre"], STATE["password"])
    page.goto(f"{live_server.url}/console/?review_status=完成")
    first = page.locator("#records-table tbody tr").first
    assert "完成" in first.inner_text()
    assert first.locator("button:text('编辑')").is_disabled()
    record_id = first.get_attribute("data-record")
    page.goto(f"{live_server.url}/console/records/{record_id}/edit")
    assert "审核已完成的记录不能再修改" in page.locator("#edit-refused").inner_text()
    assert page.locator("form[data-directed-modes]").count() == 0
    page.context.close()
    # A record waiting at the counselor's level can be edited by the counselor, and the change is
    # audited (edits belong to the level the record waits at: the centre's turn comes at 中心待审).
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["counselor"], STATE["password"])
    page.goto(f"{live_server.url}/console/?q={STATE['student_no']}")
    nav(page, page.locator("#records-table tbody tr").first.locator("a:text('编辑')"))
    page.fill("[name='other.home_address']", "深圳市南山区学苑大道1088号")
    nav(page, "button:text('保存')")
    assert "修改了 1 项" in page.locator(".flash").inner_text()
    page.context.close()


def test_export_downloads_and_opens(live_server, browser, demo, tmp_path: Path):
    page = new_page(browser, downloads=True)
    login(page, live_server.url, STATE["school"], STATE["counselor"], STATE["password"])
    page.goto(f"{live_server.url}/console/?major={STATE['major'].id}")
    total = int(re.search(r"共 (\d+) 条", page.locator(".toolbar").inner_text()).group(1))
    with page.expect_download() as info:
        page.click("a[data-export]")
    target = tmp_path / "export.xlsx"
    info.value.save_as(target)
    book = openpyxl.load_workbook(target, read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(c) for c in rows[0] if c is not None]
    assert "姓名" in header and "学号" in header
    data_rows = [r for r in rows[1:] if any(c not in (None, "") for c in r)]
    assert len(data_rows) == total
    no_col = header.index("学号")
    assert STATE["student_no"] in {str(r[no_col]) for r in data_rows}
    page.context.close()


def test_screenshots_of_console_dashboard_and_diagram(live_server, browser, demo):
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["centre"], STATE["password"])
    assert "/centre/dashboard" in page.url
    assert page.locator(".bar-row").count() >= 2
    screenshot(page, "centre-01-dashboard")
    page.goto(f"{live_server.url}/console/")
    screenshot(page, "console-03-centre", full_page=False)
    nav(page, ".topnav >> text=流程版本")
    nav(page, "a:text('查看流程图')")
    page.wait_for_selector("#diagram[data-rendered='1']")
    assert page.locator("#diagram svg").count() >= 1
    screenshot(page, "centre-02-process-diagram")
    nav(page, ".topnav >> text=账号管理")
    assert STATE["counselor"] in page.locator("table").first.inner_text()
    screenshot(page, "centre-03-accounts", full_page=False)
    page.context.close()


def test_centre_uploads_a_roster_and_creates_a_counselor(live_server, browser, demo, tmp_path: Path):
    college, major = STATE["college"], STATE["major"]
    head = ("学号,姓名,性别,证件类型,证件号码,学生类别,国籍,考生号,院系,专业代码,专业,班级,学历,学制,入学年月,毕业日期,"
            "培养方式,学习形式,学籍状态,能否正常毕业")
    tail = f",{college.name},{major.code},{major.name},,31,4,201709,20210630,1"
    good, adult = make_resident_id("110101", date(1999, 1, 1), 123), make_resident_id("110101", date(1999, 2, 1), 125)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # wrong check character
    rows = [head,
            f"20178880001,周新,1,01,{good},内地,中国,{tail},普通全日制,在籍,是",
            f"20178880002,吴成,1,01,{adult},内地,中国,{tail},成人教育,在籍,是",
            f"20178880003,郑错,1,01,{bad},内地,中国,{tail},普通全日制,在籍,是"]
    roster_file = tmp_path / "学籍.csv"
    roster_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], STATE["centre"], STATE["password"])
    nav(page, ".topnav >> text=学籍导入")
    page.set_input_files("input[type=file][name=file]", str(roster_file))
    nav(page, "button:text('上传并导入')")
    table = page.locator("#import-result table")
    outcomes = {r.locator("td").nth(1).inner_text(): r.locator("td").nth(3).inner_text()
                for r in table.locator("tbody tr").all()}
    assert outcomes == {"20178880001": "新增", "20178880002": "不在上报范围", "20178880003": "错误"}
    assert "成人教育" in table.inner_text() and "证件号码" in table.inner_text()
    screenshot(page, "centre-05-roster-import", full_page=False)

    nav(page, ".topnav >> text=账号管理")
    page.fill("input[name=username]", "counselor-new")
    page.fill("input[name=display_name]", "新辅导员")
    page.fill("input[name=password]", "new-counselor-1")
    page.fill("input[name=password2]", "new-counselor-1")
    box = page.locator(f".scope-picker input[name=major][value='{major.id}']")
    page.locator(".scope-picker details", has=page.locator(f"input[name=major][value='{major.id}']")) \
        .locator("summary").click()
    box.check()
    nav(page, "button:text('创建账号')")
    assert "已创建账号 counselor-new" in page.locator(".flash").inner_text()
    row = page.locator("tr:has-text('counselor-new')")
    assert major.name in row.inner_text()
    page.context.close()
    page = new_page(browser)
    login(page, live_server.url, STATE["school"], "counselor-new", "new-counselor-1")
    majors = page.locator(".sidebar li").all_inner_texts()
    assert len(majors) == 1 and major.name in majors[0]
    page.context.close()


def test_admin_deploys_a_version_and_migrates_after_a_dry_run(live_server, browser, demo, tmp_path: Path):
    # The same process with the centre's task renamed: waiting records can move to it.
    original = live_server.settings.process_path.read_text(encoding="utf-8")
    assert 'name="中心审核"' in original
    variant = tmp_path / "graduate_report_v2.bpmn"
    variant.write_text(original.replace('name="中心审核"', 'name="中心复核"'), encoding="utf-8")
    page = new_page(browser)
    login(page, live_server.url, "", "admin", STATE["password"])
    assert "/centre/processes" in page.url
    page.set_input_files("input[type=file][name=file]", str(variant))
    nav(page, "button:text('校验并部署')")
    assert "已部署版本" in page.locator(".flash").inner_text()
    page.wait_for_selector("#diagram[data-rendered='1']")
    assert "中心复核" in page.locator("#diagram").inner_text()
    nav(page, "button:text('试迁移')")
    result = page.locator(".alert.info").inner_text()
    would = int(re.search(r"可迁移 (\d+) 条", result).group(1))
    refused = int(re.search(r"不能迁移 (\d+) 条", result).group(1))
    waiting = ProcessInstance.select().where(ProcessInstance.completed == False).count()  # noqa: E712
    assert would + refused == waiting and would > 0
    screenshot(page, "centre-04-migrate-dry-run")
    assert len({i.version_id for i in ProcessInstance.select()}) == 1  # the dry run moved nothing
    nav(page, "button:text('确认迁移')")
    assert f"{would} 条已迁移" in page.locator(".flash").inner_text()
    new_version = int(page.url.rstrip("/").split("/")[-1])
    assert ProcessInstance.select().where(ProcessInstance.version == new_version).count() == would
    page.context.close()
