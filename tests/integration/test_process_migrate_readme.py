"""The README's example, run as an operator runs it (issue 12 defect 5, and the dry run by status).

The original steps: records waiting on bpmn/graduate_report.bpmn, then
`gradflow process deploy bpmn/graduate_report_three_level.bpmn --activate` and
`gradflow process migrate --to 2`: every waiting record was refused, because the three-level file
had another process id. Now both files are versions of process graduate_report: records not yet
past the first review move, the others are refused naming the element and keep their own version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.models import AuditEvent, PendingTask, ProcessInstance
from service.services import audit, processes
from service.services.processes.migration import migrate
from service.services.transitions import complete_task
from tests.conftest import TEST_SECRET_KEY, THREE_LEVEL_BPMN
from tests.support import factories as f

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def gradflow(db_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update(GRADFLOW_DATABASE_URL=f"sqlite:///{db_path}", GRADFLOW_SECRET_KEY=TEST_SECRET_KEY,
               GRADFLOW_INSTANCE_PATH=str(db_path.parent / "instance"))
    result = subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True, text=True,
                            timeout=120, cwd=PROJECT_ROOT)
    assert result.returncode == 0, f"gradflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _records_in_every_status(sch):
    """One record per status of the two-level process (two rejected ones: at 二级 and at 中心)."""
    maj = f.major(f.college(sch))
    counselor, centre = f.actor("counselor", sch), f.actor("centre", sch)
    recs = {k: f.record(maj) for k in ("未提交", "二级待审", "不同意@二级", "中心待审", "不同意@中心", "完成")}
    for key, rec in recs.items():
        if key != "未提交":
            complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    complete_task(recs["不同意@二级"].id, counselor, decision="reject", comment="请补充生源地")
    for key in ("中心待审", "不同意@中心", "完成"):
        complete_task(recs[key].id, counselor, decision="approve")
    complete_task(recs["不同意@中心"].id, centre, decision="reject", comment="请核对")
    complete_task(recs["完成"].id, centre, decision="approve")
    return {key: rec.id for key, rec in recs.items()}


def _state(record_id: int) -> tuple[int, str]:
    inst = ProcessInstance.get(ProcessInstance.record == record_id)
    return inst.version_id, inst.status


def test_readme_example_migrates_the_waiting_records(db, tmp_path: Path) -> None:
    db_path = tmp_path / "gradflow.db"
    v1 = processes.active_version()
    ids = _records_in_every_status(f.school())
    other = _records_in_every_status(f.school("10003", "清华大学"))

    out = gradflow(db_path, "process", "deploy", "bpmn/graduate_report_three_level.bpmn", "--activate")
    v2 = processes.find_version(out.split()[1])
    assert v2.id == 2 and "created, activated" in out
    assert v2.process_id == v1.process_id == "graduate_report"

    dry = gradflow(db_path, "process", "migrate", "--to", "2", "--dry-run", "--school", "10561", "--ids")
    assert "would migrate: 2" in dry and "refused: 3" in dry
    gateway = "「审核结果」（gw_review_level2）"
    assert f"refused 1: 已执行过的环节在新版本中有改动：{gateway}; 仍按版本 1：中心待审 → 完成" in dry
    again = "仍按版本 1：不同意 → 二级待审 → 中心待审 → 完成"
    assert f"refused 1: 已执行过的环节在新版本中有改动：{gateway}; {again}\n      records: {ids['不同意@二级']}\n" in dry
    assert (f"refused 1: 已执行过的环节在新版本中有改动：{gateway}、「中心审核」（review_centre）; {again}\n"
            f"      records: {ids['不同意@中心']}\n") in dry
    assert "  未提交: 1\n    → 未提交: 1" in dry and "  二级待审: 1\n    → 二级待审: 1" in dry
    assert "完成:" not in dry.split("by status:")[1], "a completed record is not waiting"
    assert {_state(i)[0] for i in ids.values()} == {v1.id}, "a dry run changes nothing"

    real = gradflow(db_path, "process", "migrate", "--to", "2", "--school", "10561")
    assert "migrated: 2" in real and "refused: 3" in real
    assert _state(ids["未提交"]) == (v2.id, "未提交")
    assert _state(ids["二级待审"]) == (v2.id, "二级待审")
    for key in ("不同意@二级", "中心待审", "不同意@中心", "完成"):
        assert _state(ids[key])[0] == v1.id, key
    assert {_state(i)[0] for i in other.values()} == {v1.id}, "--school leaves the other school alone"
    assert AuditEvent.select().where(AuditEvent.action == "migrate").count() == 2

    # The migrated record now goes through the new level; the refused one still ends on version 1.
    sch = f.school()
    assert complete_task(ids["二级待审"], f.actor("counselor", sch), decision="approve").status_after == "一级待审"
    assert [p.role for p in PendingTask.select().where(PendingTask.record == ids["二级待审"])] == ["level1"]
    assert complete_task(ids["中心待审"], f.actor("centre", sch), decision="approve").status_after == "完成"

    everywhere = gradflow(db_path, "process", "migrate", "--to", "2")
    assert "migrated: 2" in everywhere and "refused: 5" in everywhere  # the other school's 3, ours 2 (one finished meanwhile)
    assert _state(other["二级待审"]) == (v2.id, "二级待审")
    assert audit.verify().ok


def test_dry_run_report_by_status_for_the_review_page(db) -> None:
    v1 = processes.active_version()
    ids = _records_in_every_status(f.school())
    v2 = processes.deploy_file(THREE_LEVEL_BPMN).version

    report = migrate(str(v2.id), dry_run=True)
    rows = {row.status: row for row in report.breakdown()}
    assert list(rows) == ["未提交", "二级待审", "不同意", "中心待审"]
    assert {s: (r.total, r.moved, r.refused) for s, r in rows.items()} == {
        "未提交": (1, 1, 0), "二级待审": (1, 1, 0), "不同意": (2, 0, 2), "中心待审": (1, 0, 1)}
    assert rows["二级待审"].moves == {"二级待审": 1}
    at_level2, at_centre = rows["不同意"].refusals
    assert at_level2.elements == [{"element_id": "gw_review_level2", "element_name": "审核结果"}]
    assert at_centre.elements == [{"element_id": "gw_review_level2", "element_name": "审核结果"},
                                  {"element_id": "review_centre", "element_name": "中心审核"}]
    assert (at_level2.record_ids, at_centre.record_ids) == ([ids["不同意@二级"]], [ids["不同意@中心"]])
    assert (at_level2.from_version, at_level2.remaining) == (v1.id, ["不同意", "二级待审", "中心待审", "完成"])
    assert rows["中心待审"].refusals[0].next_text == f"仍按版本 {v1.id}：中心待审 → 完成"
    import json

    as_json = json.loads(json.dumps(report.breakdown_json(), ensure_ascii=False))
    assert as_json[3] == {"status": "中心待审", "total": 1, "moved": 0, "refused": 1, "moves": [], "refusals": [{
        "reason": "已执行过的环节在新版本中有改动：「审核结果」（gw_review_level2）",
        "elements": [{"element_id": "gw_review_level2", "element_name": "审核结果"}], "from_version": v1.id,
        "remaining": ["中心待审", "完成"], "next": f"仍按版本 {v1.id}：中心待审 → 完成", "count": 1,
        "record_ids": [ids["中心待审"]]}]}
    assert as_json[0]["moves"] == [{"status": "未提交", "count": 1}]
    # The fields the centre's page already shows keep their meaning.
    assert (report.migrated, report.refused_total, len(report.details)) == (2, 3, 3)
    assert _state(ids["二级待审"]) == (v1.id, "二级待审")

    f.school("10003", "清华大学")
    assert migrate(str(v2.id), dry_run=True, school="10003").by_status == {}


def test_migrate_to_an_unknown_school_is_refused_in_chinese(db) -> None:
    import pytest

    from service.errors import NotFound

    v2 = processes.deploy_file(THREE_LEVEL_BPMN).version
    with pytest.raises(NotFound, match="学校 99999 不存在"):
        migrate(str(v2.id), dry_run=True, school="99999")
