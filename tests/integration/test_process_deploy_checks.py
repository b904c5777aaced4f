"""Deploy-time checks a hostile or broken BPMN must fail, and the runtime guard behind them.

Every hostile file is the shipped BPMN with one string replaced. Each test first shows the attack
(the file that used to deploy, or the review that used to be a 500) and then that it fails safely:
refused with a Chinese reason naming the element, nothing stored, nothing run.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from service.errors import ProcessValidationError
from service.models import AuditEvent, PendingTask, ProcessInstance, ProcessVersion
from service.services import processes
from service.workflow.definitions import parse_process, sha256_of
from service.workflow.serializer import dump_spec
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.integration.test_cli_core import gradflow
from tests.support import reviewing as rv

APPROVE_LEVEL2 = 'decision == &quot;approve&quot;</bpmn:conditionExpression>'


def _with_condition(condition: str, source: Path = DEFAULT_BPMN) -> str:
    """The shipped file with the first approve condition (gw_review_level2's) replaced."""
    escaped = condition.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    text = source.read_text(encoding="utf-8")
    assert APPROVE_LEVEL2 in text
    return text.replace(APPROVE_LEVEL2, escaped + "</bpmn:conditionExpression>", 1)


# --- item 11: gateway conditions that passed deploy and failed every review ----------------------

ISSUE_CONDITIONS = {
    "division_by_zero": "1/0",
    "undefined_name": 'no_such_variable == "approve"',
    "arithmetic_on_text": "decision + 1",
    "no_matching_branch": 'decision == "approved"',
    "huge_repetition": '["x"] * 1500000000',
}


@pytest.mark.parametrize("condition", ISSUE_CONDITIONS.values(), ids=ISSUE_CONDITIONS.keys())
def test_each_issue_condition_is_refused_at_deploy_naming_the_gateway(db, condition: str) -> None:
    xml = _with_condition(condition).encode("utf-8")
    before = ProcessVersion.select().count()
    with pytest.raises(ProcessValidationError) as caught:
        processes.deploy(xml, "evil.bpmn")
    problems = {p.element_id: p.problem for p in caught.value.problems}
    assert "gw_review_level2" in problems, problems
    reason = problems["gw_review_level2"]
    assert "网关「审核结果」(gw_review_level2)" in reason  # names id and name, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason.replace("审核结果", ""))
    assert ProcessVersion.select().count() == before  # nothing stored


@pytest.mark.parametrize("condition", [
    "decision == 'approve' or 1 == 1",       # both branches for a rejection
    "1 // (3 - 3) == 0",                      # constant zero divisor, folded
    "100000000000000000000 > 1",              # a constant beyond the bound
    "decision * 3 == 'x'",                    # string repetition
    "comment < 5",                            # comparing text and a number
])
def test_more_conditions_that_would_fail_at_review_time_are_refused(condition: str) -> None:
    with pytest.raises(ProcessValidationError) as caught:
        parse_process(_with_condition(condition).encode("utf-8"))
    assert "gw_review_level2" in {p.element_id: p.problem for p in caught.value.problems}


def test_a_default_flow_covers_decisions_no_condition_selects() -> None:
    xml = _with_condition('decision == "approve" and comment == ""').replace(
        '<bpmn:exclusiveGateway id="gw_review_level2" name="审核结果">',
        '<bpmn:exclusiveGateway id="gw_review_level2" name="审核结果" default="flow_gw_review_level2_reject">')
    # an approval with a comment matches no condition, so the default (back to the student) takes it
    parse_process(xml.encode("utf-8"))


@pytest.mark.parametrize("source", [DEFAULT_BPMN, THREE_LEVEL_BPMN], ids=["default", "three_level"])
def test_the_shipped_processes_still_deploy(db, source: Path) -> None:
    result = processes.deploy(source.read_bytes(), source.name)
    assert result.version.meta["levels"]


def test_gateway_refusal_through_the_cli_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "evil.bpmn"
    path.write_text(_with_condition("decision + 1"), encoding="utf-8")
    gradflow(tmp_path, "db", "upgrade")
    result = gradflow(tmp_path, "process", "deploy", str(path), check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "网关「审核结果」(gw_review_level2)" in result.stderr


# --- runtime: a version stored before these checks must give a 409, never a 500 ------------------

def _store_unchecked_version(condition: str) -> ProcessVersion:
    """Store a hostile version the way an older gradflow did: Spiff parses it, our checks are skipped."""
    xml = _with_condition(condition).encode("utf-8")
    with pytest.raises(ProcessValidationError):
        parse_process(xml)  # today's deploy refuses it ...
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml, filename="old.bpmn")
    spec, subs = parser.get_spec("graduate_report"), parser.get_subprocess_specs("graduate_report")
    meta = parse_process(DEFAULT_BPMN.read_bytes()).meta  # same tasks and lanes as the shipped file
    version = ProcessVersion.create(sha256=sha256_of(xml), process_id="graduate_report", name=meta["name"],
                                    source_name="old.bpmn", bpmn_xml=xml.decode("utf-8"),
                                    spec_json=dump_spec(spec, subs), meta=meta, deployed_by="old-gradflow")
    processes.activate(str(version.id))  # ... but a version stored earlier still runs
    return version


@pytest.mark.parametrize("condition", ["decision + 1 == 2", 'decision == "approved"'],
                         ids=["evaluation_error", "no_branch"])
def test_a_condition_failing_at_review_time_is_a_409_and_writes_nothing(app, condition: str) -> None:
    world = rv.make_world()
    _store_unchecked_version(condition)
    rec = rv.submitted(world, world.m1)  # starts on the unchecked version; submit has no gateway
    rv.user("c1", "counselor", world.school, colleges=(world.c1,))
    api = rv.login(app, "c1")
    inst = ProcessInstance.get(ProcessInstance.record == rec.id)
    events = AuditEvent.select().count()
    pending = [(p.task_id, p.status) for p in PendingTask.select().where(PendingTask.record == rec.id)]

    r = api.post(f"/api/v1/records/{rec.id}/review", json={"decision": "approve"})
    assert r.status_code == 409, r.get_data(as_text=True)
    body = r.get_json()
    assert body["code"] == "process_condition_failed" and "流程条件无法判定" in body["message"]
    after = ProcessInstance.get(ProcessInstance.record == rec.id)
    assert (after.state, after.status, after.lock_version) == (inst.state, inst.status, inst.lock_version)
    assert AuditEvent.select().count() == events
    assert [(p.task_id, p.status) for p in PendingTask.select().where(PendingTask.record == rec.id)] == pending

    # a batch reports the record as skipped for that reason, and goes on with the others
    r = api.post("/api/v1/reviews/batch", json={"record_ids": [rec.id], "decision": "approve"})
    assert r.status_code == 200
    assert [s["reason"] for s in r.get_json()["skipped"]] == ["process_condition_failed"]
    assert ProcessInstance.get(ProcessInstance.record == rec.id).lock_version == inst.lock_version
    # the rejection branch still works on that version
    r = api.post(f"/api/v1/records/{rec.id}/review", json={"decision": "reject", "comment": "请补充"})
    assert r.status_code == 200 and r.get_json()["status_after"] == "不同意"


# --- the file itself: encodings, DTDs and entities, not XML at all --------------------------------

def _latin1_file() -> bytes:
    text = DEFAULT_BPMN.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    text = text.replace('name="学生修改"', 'name="Révision"')
    return text.encode("iso-8859-1", "xmlcharrefreplace")


def _with_doctype(doctype: str, use: str) -> bytes:
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    head, rest = text.split("\n", 1)
    rest = rest.replace('name="学生修改"', f'name="{use}"', 1)
    return f"{head}\n{doctype}\n{rest}".encode()


BAD_FILES = {
    "iso_8859_1": (_latin1_file(), "UTF-8"),
    "utf16_with_bom": (DEFAULT_BPMN.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
                       .encode("utf-16"), "UTF-8"),
    "utf16_without_bom": (DEFAULT_BPMN.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
                          .encode("utf-16-le"), "UTF-8"),
    "not_xml": (b"PK\x03\x04 this is a zip, not a diagram", "XML"),
    "empty": (b"", "文件为空"),
    "xxe": (_with_doctype('<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"), "DOCTYPE"),
    "billion_laughs": (_with_doctype(
        '<!DOCTYPE d [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>', "&e;"),
        "DOCTYPE"),
    "xslt_stylesheet": (DEFAULT_BPMN.read_text(encoding="utf-8").replace(
        "?>", '?>\n<?xml-stylesheet type="text/xsl" href="data:,x"?>', 1).encode(), "处理指令"),
}


@pytest.mark.parametrize("name", BAD_FILES.keys())
def test_bad_files_give_one_clear_cli_error_not_a_traceback(tmp_path: Path, name: str) -> None:
    data, needle = BAD_FILES[name]
    path = tmp_path / f"{name}.bpmn"
    path.write_bytes(data)
    gradflow(tmp_path, "db", "upgrade")
    result = gradflow(tmp_path, "process", "deploy", str(path), check=False)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and needle in result.stderr, result.stderr
    assert "Error: 流程文件校验未通过" in result.stderr
    assert "graduate_report" not in gradflow(tmp_path, "process", "list").stdout


def test_utf8_with_a_byte_order_mark_deploys_and_is_stored_without_it(db) -> None:
    data = codecs.BOM_UTF8 + THREE_LEVEL_BPMN.read_bytes()
    result = processes.deploy(data, "bom.bpmn")
    assert result.created
    assert result.version.bpmn_xml.startswith("<?xml") and result.version.sha256 == sha256_of(data)
    # The mark is no content: the file without it (or the default with it) is a version already there.
    assert processes.deploy_file(THREE_LEVEL_BPMN).version.id == result.version.id
    default = processes.deploy(codecs.BOM_UTF8 + DEFAULT_BPMN.read_bytes(), "bom-default.bpmn")
    assert (default.created, default.version.id) == (False, processes.active_version().id)


# --- item 6, second layer: foreign markup inside the diagram is refused at deploy -----------------

FOREIGN = {
    "xhtml_script": '<script xmlns="http://www.w3.org/1999/xhtml">alert(document.cookie)</script>',
    "svg_onload": '<svg:svg xmlns:svg="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "no_namespace": '<img src="x" onerror="alert(1)" />',
}


@pytest.mark.parametrize("markup", FOREIGN.values(), ids=FOREIGN.keys())
def test_markup_outside_the_bpmn_namespaces_is_refused_at_deploy(db, markup: str) -> None:
    text = DEFAULT_BPMN.read_text(encoding="utf-8")
    hostile = text.replace('<bpmn:startEvent id="start" name="开始填报">',
                           '<bpmn:startEvent id="start" name="开始填报"><bpmn:extensionElements>'
                           f"{markup}</bpmn:extensionElements>", 1)
    assert hostile != text
    with pytest.raises(ProcessValidationError) as caught:
        processes.deploy(hostile.encode("utf-8"), "evil.bpmn")
    assert "不允许命名空间" in caught.value.message
    assert ProcessVersion.select().where(ProcessVersion.source_name == "evil.bpmn").count() == 0
