"""Parse, validate and describe a BPMN review process.

Everything gradflow knows about the process comes out of here, read from the diagram: the roles
(lane ids), the status label of every human task (spiffworkflow:properties), the review levels in
flow order, the final status on the end event. Python code never names a status or a role.

Properties read from the BPMN:
  user task: status (required), action = submit | review (required), level, report_status
  end event: status (required), report_status
  lane: its id is the role key accounts are given; its name is what people read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from service.errors import ProcessValidationError
from service.workflow.expressions import ExpressionError, parse_expression

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
ACTIONS = ("submit", "review")
# Elements that would run code or leave the process: none is needed for a review chain.
FORBIDDEN_ELEMENTS = ("scriptTask", "serviceTask", "businessRuleTask", "callActivity", "sendTask")
MAX_BPMN_BYTES = 2 * 1024 * 1024


@dataclass
class ProcessDefinition:
    """A parsed, validated process version; `meta` is JSON-ready and stored with the version."""

    sha256: str
    process_id: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    meta: dict[str, Any]
    xml: bytes = field(repr=False, default=b"")

    # Convenience views over meta -------------------------------------------------------
    def task(self, name: str) -> dict[str, Any]:
        return self.meta["tasks"][name]

    @property
    def roles(self) -> list[str]:
        return [lane["role"] for lane in self.meta["lanes"]]

    @property
    def submitter_role(self) -> str:
        return self.meta["submitter_role"]

    @property
    def reviewer_roles(self) -> list[str]:
        return [lv["role"] for lv in self.meta["levels"]]

    @property
    def school_wide_role(self) -> str:
        """The role of the last review level (中心 in the default BPMN): it acts for the whole school."""
        return self.meta["levels"][-1]["role"]

    @property
    def statuses(self) -> list[str]:
        return self.meta["statuses"]

    def role_label(self, role: str) -> str:
        for lane in self.meta["lanes"]:
            if lane["role"] == role:
                return lane["name"]
        return role


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_process(xml: bytes, source_name: str = "process.bpmn") -> ProcessDefinition:
    """Validate a BPMN document and build its definition; raises ProcessValidationError."""
    if len(xml) > MAX_BPMN_BYTES:
        raise ProcessValidationError([("(file)", f"file larger than {MAX_BPMN_BYTES} bytes")])
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ProcessValidationError([("(file)", f"not well-formed XML: {exc}")]) from None

    problems = _static_checks(root)
    if problems:
        raise ProcessValidationError(problems)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=source_name)
        process_ids = parser.get_process_ids()
        executable = [pid for pid in process_ids if _is_executable(root, pid)] or process_ids
        if len(executable) != 1:
            raise ProcessValidationError([("(file)", f"expected one executable process, found {executable}")])
        process_id = executable[0]
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        element = exc.id or _element_at_line(root, exc.line_number) or "(file)"
        where = f" (line {exc.line_number})" if exc.line_number else ""
        raise ProcessValidationError([(element, str(exc).splitlines()[0] + where)]) from None

    meta = _describe(root, spec, process_id)
    return ProcessDefinition(
        sha256=sha256_of(xml), process_id=process_id, spec=spec,
        subprocess_specs=subprocess_specs, meta=meta, xml=xml,
    )


def _element_at_line(root: etree._Element, line: object) -> str | None:
    """The id of the element an XSD error points at (schema errors carry only a line number)."""
    if not isinstance(line, int):
        return None
    for el in root.iter():
        if el.sourceline == line and el.get("id"):
            return el.get("id")
    return None


def _is_executable(root: etree._Element, process_id: str) -> bool:
    found = root.xpath(f'//bpmn:process[@id="{process_id}"]', namespaces=NS)
    return bool(found) and found[0].get("isExecutable", "false") == "true"


def _properties(element: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                               namespaces=NS)
    }


def _static_checks(root: etree._Element) -> list[tuple[str, str]]:
    """Checks made on the XML before SpiffWorkflow sees it: nothing here executes anything."""
    problems: list[tuple[str, str]] = []
    for tag in FORBIDDEN_ELEMENTS:
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            problems.append((el.get("id", tag), f"{tag} is not allowed: gradflow processes run no code"))
    for el in root.xpath("//spiffworkflow:preScript | //spiffworkflow:postScript", namespaces=NS):
        owner = el.getparent().getparent()
        problems.append((owner.get("id", "?"), "pre/post scripts are not allowed"))

    flows = {f.get("id"): f for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    for flow_id, flow in flows.items():
        for cond in flow.iter(f"{{{BPMN_NS}}}conditionExpression"):
            gateway = flow.get("sourceRef", "?")
            try:
                parse_expression(cond.text or "")
            except ExpressionError as exc:
                problems.append((gateway, f"condition on flow {flow_id} refused: {exc}"))
    # Other expression-bearing elements (loop, multi-instance, timers) are not part of the language.
    for tag in ("loopCardinality", "completionCondition", "loopCondition", "timeDate", "timeDuration",
                "timeCycle"):
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = el.getparent()
            problems.append((owner.get("id", tag), f"{tag} is not allowed in a review process"))

    lanes_of: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes_of[(ref.text or "").strip()] = lane.get("id", "")
    for task in root.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask", f"{{{BPMN_NS}}}task"):
        tid = task.get("id", "?")
        if task.tag != f"{{{BPMN_NS}}}userTask":
            problems.append((tid, "only user tasks are supported; use a userTask"))
            continue
        if tid not in lanes_of:
            problems.append((tid, "user task is not in a lane (lanes name the roles)"))
        props = _properties(task)
        if not props.get("status"):
            problems.append((tid, "user task has no 'status' property (the status label)"))
        if props.get("action") not in ACTIONS:
            problems.append((tid, f"user task property 'action' must be one of {ACTIONS}"))
    for end in root.iter(f"{{{BPMN_NS}}}endEvent"):
        if not _properties(end).get("status"):
            problems.append((end.get("id", "?"), "end event has no 'status' property"))
    return problems


def _describe(root: etree._Element, spec: BpmnProcessSpec, process_id: str) -> dict[str, Any]:
    """Extract the metadata every other layer uses (roles, statuses, levels) from the diagram."""
    lanes = []
    role_of_lane_name: dict[str, str] = {}
    for lane in root.xpath(f'//bpmn:process[@id="{process_id}"]//bpmn:lane', namespaces=NS):
        role = lane.get("id")
        name = lane.get("name") or role
        lanes.append({"role": role, "name": name})
        role_of_lane_name[name] = role
    elements = {el.get("id"): el for el in root.xpath(f'//bpmn:process[@id="{process_id}"]//*[@id]',
                                                      namespaces=NS)}

    tasks: dict[str, dict[str, Any]] = {}
    ends: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    seen: set[str] = set()
    queue = [spec.start]
    while queue:  # breadth-first over the spec gives the flow order used for levels and statuses
        ts = queue.pop(0)
        if ts.name in seen:
            continue
        seen.add(ts.name)
        order.append(ts.name)
        queue.extend(ts.outputs)
    for name in order:
        el = elements.get(name)
        if el is None:
            continue
        ts = spec.task_specs[name]
        props = _properties(el)
        local = etree.QName(el).localname
        if local == "userTask":
            tasks[name] = {
                "name": name,
                "title": el.get("name") or name,
                "role": role_of_lane_name.get(ts.lane, ""),
                "lane": ts.lane or "",
                "status": props["status"],
                "action": props["action"],
                "level": props.get("level", ""),
                "report_status": props.get("report_status", ""),
                "properties": props,
            }
        elif local == "endEvent":
            ends[name] = {
                "name": name,
                "status": props["status"],
                "report_status": props.get("report_status", ""),
            }
    submit_tasks = [t for t in tasks.values() if t["action"] == "submit"]
    review_tasks = [t for t in tasks.values() if t["action"] == "review"]
    submitter_roles = {t["role"] for t in submit_tasks}
    if len(submitter_roles) != 1:
        raise ProcessValidationError([(process_id, "all submit tasks must be in one lane (the student's)")])
    if not review_tasks:
        raise ProcessValidationError([(process_id, "the process has no review task")])
    statuses: list[str] = []
    for t in [*submit_tasks[:1], *review_tasks, *submit_tasks[1:], *ends.values()]:
        if t["status"] not in statuses:
            statuses.append(t["status"])
    return {
        "process_id": process_id,
        "name": (root.xpath(f'//bpmn:process[@id="{process_id}"]', namespaces=NS)[0].get("name") or process_id),
        "lanes": lanes,
        "tasks": tasks,
        "ends": ends,
        "submitter_role": submitter_roles.pop(),
        "initial_status": submit_tasks[0]["status"],
        "levels": [{"role": t["role"], "level": t["level"] or t["title"], "status": t["status"], "task": t["name"]}
                   for t in review_tasks],
        "statuses": statuses,
        "report_statuses": sorted({t["report_status"] for t in [*tasks.values(), *ends.values()]
                                   if t["report_status"]}),
    }
