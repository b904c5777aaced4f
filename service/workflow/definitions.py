"""Parse, validate and describe a BPMN review process.

Everything gradflow knows about the process comes out of here, read from the diagram: the roles
(lane ids), the status label of every human task (spiffworkflow:properties), the review levels in
flow order, the final status on the end event. Python code never names a status or a role.

Properties read from the BPMN:
  user task: status (required), action = submit | review (required), level, report_status,
             on_behalf_roles (submit tasks only: lane ids of reviewer roles that may complete the
             task for a student who has no account yet, 代为提交; space or comma separated)
  end event: status (required), report_status
  lane: its id is the role key accounts are given; its name is what people read.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from service.errors import Problem, ProcessValidationError
from service.workflow.expressions import ExpressionError, evaluate, parse_expression
from service.workflow.variables import PROCESS_VARIABLES, samples

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
ACTIONS = ("submit", "review")
ON_BEHALF_PROPERTY = "on_behalf_roles"
# Elements that would run code or leave the process: none is needed for a review chain.
FORBIDDEN_ELEMENTS = ("scriptTask", "serviceTask", "businessRuleTask", "callActivity", "sendTask")
MAX_BPMN_BYTES = 2 * 1024 * 1024
# Namespaces an element of a deployed file may be in: BPMN model and diagram interchange, and
# SpiffWorkflow's extensions. Anything else (XHTML, SVG, XSLT …) could run script in a browser.
ALLOWED_NAMESPACES = frozenset({
    BPMN_NS,
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://spiffworkflow.org/bpmn/schema/1.0/core",
})
_CONSTANT_NAMES = frozenset({"True", "False", "None"})
_DECLARED_ENCODING = re.compile(rb"""^<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_FOREIGN_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


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
        raise _refuse(f"文件超过 {MAX_BPMN_BYTES // (1024 * 1024)} MB，不能部署")
    root = read_xml(xml)

    problems = _static_checks(root)
    if problems:
        raise named_refusal(root, problems)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=source_name)
        process_ids = parser.get_process_ids()
        executable = [pid for pid in process_ids if _is_executable(root, pid)] or process_ids
        if len(executable) != 1:
            found = "、".join(executable) or "无"
            raise _refuse(f"文件中应当恰好有一个可执行的流程（isExecutable=\"true\"），实际为：{found}")
        process_id = executable[0]
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        element = exc.id or _element_at_line(root, exc.line_number) or ""
        where = f"第 {exc.line_number} 行" if exc.line_number else "文件"
        detail = str(exc).splitlines()[0].strip()
        said = next((zh for en, zh in _SPIFF_MESSAGES.items() if detail.startswith(en)), None) \
            or f"{where}不符合 BPMN 规范，SpiffWorkflow 无法读取（{detail}）"
        raise named_refusal(root, [(element, said)]) from None
    except ProcessValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - Spiff's parser fails on odd files with any exception
        raise _refuse(f"SpiffWorkflow 无法解析该流程（{type(exc).__name__}: {exc}）") from None

    try:
        meta = _describe(root, spec, process_id)
    except _Refused as exc:
        raise named_refusal(root, exc.problems) from None
    return ProcessDefinition(
        sha256=sha256_of(xml), process_id=process_id, spec=spec,
        subprocess_specs=subprocess_specs, meta=meta, xml=xml,
    )


# SpiffWorkflow's own refusals that an editor's ordinary mistakes produce, said in Chinese.
_SPIFF_MESSAGES = {
    "No start event found": "流程没有开始事件",
    "Multiple start events found": "流程有多个开始事件，只能有一个",
    "Non-default exclusive outgoing sequence flow without condition":
        "网关的这条出线没有条件：请在「审核结果」中选择 通过 或 不通过（或设为默认流）",
    "Multiple outgoing flows are not supported for tasks of type":
        "任务只能有一条出线：分支请用网关",
    "Duplicate process ID": "流程 id 重复",
}


def _refuse(problem: str) -> ProcessValidationError:
    """A refusal of the whole file (no element to point at)."""
    return ProcessValidationError([Problem("", "", problem)])


class _Refused(Exception):
    """Problems found while describing the spec, named against the XML by parse_process."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems


_KIND_NAMES = {
    "lane": "泳道", "userTask": "用户任务", "task": "任务", "manualTask": "任务", "exclusiveGateway": "网关",
    "parallelGateway": "网关", "inclusiveGateway": "网关", "sequenceFlow": "连线", "startEvent": "开始事件",
    "endEvent": "结束事件", "process": "流程", "scriptTask": "脚本任务", "serviceTask": "服务任务",
    "businessRuleTask": "规则任务", "callActivity": "调用活动", "sendTask": "发送任务",
}


def named_refusal(root: etree._Element, problems: list[tuple[str, str]]) -> ProcessValidationError:
    """Each (element id, problem) with the element's name, as designers know it: 网关「审核结果」."""
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    named = []
    for element_id, problem in problems:
        el = elements.get(element_id)
        if el is None:
            named.append(Problem(element_id if element_id else "", "", problem))
            continue
        kind = _KIND_NAMES.get(etree.QName(el).localname, "元素")
        name = (el.get("name") or "").strip()
        named.append(Problem(element_id, f"{kind}「{name}」" if name else f"{kind}（未命名）", problem))
    return ProcessValidationError(named)


def read_xml(xml: bytes) -> etree._Element:
    """Parse the file as UTF-8 XML without DTDs, entities or network access; raises ProcessValidationError.

    Only UTF-8 is accepted (with or without a byte-order mark, declared or not): the stored text and
    the diagram download are UTF-8, and one encoding keeps a version's bytes and text the same thing.
    """
    if not xml.strip():
        raise _refuse("文件为空")
    if xml.startswith(_FOREIGN_BOMS):
        raise _refuse("BPMN 文件必须是 UTF-8 编码（检测到 UTF-16/UTF-32 字节顺序标记）")
    body = xml[len(codecs.BOM_UTF8):] if xml.startswith(codecs.BOM_UTF8) else xml
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(f"BPMN 文件必须是 UTF-8 编码（第 {exc.start} 字节不是 UTF-8）") from None
    if "\x00" in text:
        raise _refuse("BPMN 文件必须是 UTF-8 编码（含有 NUL 字符，可能是 UTF-16）")
    declared = _DECLARED_ENCODING.match(body)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in ("utf-8", "utf8"):
        name = declared.group(1).decode("ascii", "replace")
        raise _refuse(f"BPMN 文件声明的编码为 {name}，只接受 UTF-8")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise _refuse("不允许 DOCTYPE 或实体声明")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise _refuse(f"不是格式正确的 XML：{exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _refuse("不允许 DOCTYPE 或实体声明")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise _refuse(f"根元素必须是 bpmn:definitions（实际为 {root.tag}）")
    for sibling in [*root.itersiblings(preceding=True), *root.itersiblings()]:
        if isinstance(sibling, etree._ProcessingInstruction):
            raise _refuse(f"不允许处理指令 <?{sibling.target} …?>")
    return root


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
            problems.append((el.get("id", ""), f"不允许使用 {tag}：审核流程不执行任何代码，请改用用户任务"))
    for el in root.xpath("//spiffworkflow:preScript | //spiffworkflow:postScript", namespaces=NS):
        owner = el.getparent().getparent()
        problems.append((owner.get("id", ""), "不允许前置/后置脚本（preScript/postScript）：审核流程不执行任何代码"))

    for el in root.iter():
        if isinstance(el.tag, str):
            ns = etree.QName(el).namespace
            if ns not in ALLOWED_NAMESPACES:
                problems.append((el.get("id") or etree.QName(el).localname,
                                 f"不允许命名空间 {ns or '（无）'} 中的元素 <{etree.QName(el).localname}>"
                                 "（只允许 BPMN、BPMNDI、DC、DI 与 spiffworkflow）"))
        elif isinstance(el, etree._ProcessingInstruction):
            problems.append(("", f"不允许处理指令 <?{el.target} …?>"))
    if problems:
        return problems  # foreign content: refuse before looking any further

    problems.extend(_check_gateways(root))
    # Other expression-bearing elements (loop, multi-instance, timers) are not part of the language.
    for tag in ("loopCardinality", "completionCondition", "loopCondition", "timeDate", "timeDuration",
                "timeCycle"):
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = el.getparent()
            problems.append((owner.get("id", ""), f"审核流程中不允许使用 {tag}（循环、多实例或定时器）"))

    lanes_of: dict[str, str] = {}
    problems.extend(_check_lanes(root))
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes_of[(ref.text or "").strip()] = lane.get("id", "")
    for task in root.iter(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}manualTask", f"{{{BPMN_NS}}}task"):
        tid = task.get("id", "")
        if task.tag != f"{{{BPMN_NS}}}userTask":
            problems.append((tid, "只支持用户任务（userTask）：请把该任务改为用户任务"))
            continue
        if tid not in lanes_of:
            problems.append((tid, "用户任务不在任何泳道中：泳道决定由哪个角色办理，请把它放进一个泳道"))
        props = _properties(task)
        if not props.get("status"):
            problems.append((tid, "用户任务缺少「状态名称」（status 属性），例如 二级待审"))
        if props.get("action") not in ACTIONS:
            problems.append((tid, "用户任务的「动作」（action 属性）必须是 submit（学生提交）或 review（审核）"))
    for end in root.iter(f"{{{BPMN_NS}}}endEvent"):
        if not _properties(end).get("status"):
            problems.append((end.get("id", ""), "结束事件缺少「状态名称」（status 属性），例如 完成"))
    return problems


# A lane's id is the role key accounts are created with (counselor, level1, centre …): stable and
# readable. The ids bpmn-js generates for a new lane (Lane_0x1y2z3) are neither: a designer must
# choose one, or a later edit that recreates the lane would silently give the level another role.
ROLE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
GENERATED_LANE_ID = re.compile(r"^Lane_[0-9a-z]{7}$")


def _check_lanes(root: etree._Element) -> list[tuple[str, str]]:
    """Every lane needs a role key of its own (its id) and a display name no other lane has."""
    problems: list[tuple[str, str]] = []
    seen_names: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        lane_id, name = lane.get("id", ""), (lane.get("name") or "").strip()
        where = f"泳道「{name}」({lane_id})" if name else f"泳道 {lane_id or '（无 id）'}"
        if GENERATED_LANE_ID.match(lane_id):
            problems.append((lane_id, f"{where} 的 id 是编辑器自动生成的，请改为表示角色的英文标识（如 counselor、level1）"))
        elif not ROLE_KEY.match(lane_id):
            problems.append((lane_id, f"{where} 的 id 不是有效的角色标识（字母开头，只含字母、数字、下划线，最多 32 位）"))
        if not name:
            problems.append((lane_id, f"{where} 没有名称：请填写该角色的显示名称"))
        elif name in seen_names:
            problems.append((lane_id, f"{where} 与泳道 {seen_names[name]} 同名：每个泳道（角色）的名称必须不同"))
        else:
            seen_names[name] = lane_id
    return problems


def _label(element: etree._Element | None, element_id: str) -> str:
    """How a refusal names an element: 网关「审核结果」(gw_review_level2)."""
    if element is None:
        return element_id
    kind = "网关" if etree.QName(element).localname.endswith("Gateway") else "元素"
    name = element.get("name")
    return f"{kind}「{name}」({element_id})" if name else f"{kind} {element_id}"


def _check_gateways(root: etree._Element) -> list[tuple[str, str]]:
    """Check every condition, then evaluate every branching element for every task data it can see.

    A condition may name only the process variables (variables.PROCESS_VARIABLES). The data reaching
    an element is what the human task before it sets (found by walking the flows backwards through
    gateways and events); for each such sample every condition must evaluate, and an exclusive
    gateway must select exactly one outgoing flow, or none when it has a default flow. So a
    gateway that would fail at review time (1/0, an unknown name, `decision + 1`, no matching
    branch) is refused here, naming it.
    """
    problems: list[tuple[str, str]] = []
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    flows = list(root.iter(f"{{{BPMN_NS}}}sequenceFlow"))
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        incoming.setdefault(flow.get("targetRef", ""), []).append(flow.get("sourceRef", ""))
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)

    for source, out in outgoing.items():
        source_el = elements.get(source)
        label = _label(source_el, source)
        conditions: dict[str, ast.Expression] = {}
        failed = False
        for flow in out:
            cond = flow.find(f"{{{BPMN_NS}}}conditionExpression")
            if cond is None:
                continue
            flow_id = flow.get("id", "?")
            text = (cond.text or "").strip()
            try:
                tree = parse_expression(text)
            except ExpressionError as exc:
                problems.append((source, f"{label} 的流 {flow_id} 条件不允许：{exc.zh}"))
                failed = True
                continue
            unknown = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
                             - PROCESS_VARIABLES - _CONSTANT_NAMES)
            if unknown:
                problems.append((source, f"{label} 的流 {flow_id} 条件使用了未定义的变量 {'、'.join(unknown)}"
                                         f"（流程只提供 {'、'.join(sorted(PROCESS_VARIABLES))}）"))
                failed = True
                continue
            conditions[flow_id] = tree
        if failed or not conditions:
            continue
        local = etree.QName(source_el).localname if source_el is not None else ""
        default = source_el.get("default") if source_el is not None else None
        unconditional = [f.get("id", "?") for f in out
                         if f.find(f"{{{BPMN_NS}}}conditionExpression") is None and f.get("id") != default]
        for data in _data_reaching(source, elements, incoming):
            chosen = list(unconditional) if local == "exclusiveGateway" else []
            broken = False
            for flow_id, tree in conditions.items():
                try:
                    if evaluate(tree, data):
                        chosen.append(flow_id)
                except ExpressionError as exc:
                    problems.append((source, f"{label} 的流 {flow_id} 条件在 {_describe_data(data)} 时无法计算："
                                             f"{exc.zh}"))
                    broken = True
            if broken:
                break
            if local == "exclusiveGateway" and (len(chosen) > 1 or (not chosen and not default)):
                what = "没有任何分支" if not chosen else f"同时选中了 {len(chosen)} 个分支（{'、'.join(chosen)}）"
                problems.append((source, f"{label} 在 {_describe_data(data)} 时{what}：每个审核结果必须恰好选中一个分支"))
                break
    return problems


def _describe_data(data: dict[str, Any]) -> str:
    if not data:
        return "没有审核数据（提交）"
    return "、".join(f"{k} = {v!r}" for k, v in data.items())


def _data_reaching(node: str, elements: dict[str, etree._Element], incoming: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every task data a node can see: the samples of the human tasks whose step leads to it."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue = list(incoming.get(node, []))
    while queue:
        current = queue.pop()
        if current in seen:
            continue
        seen.add(current)
        el = elements.get(current)
        local = etree.QName(el).localname if el is not None else ""
        if local == "userTask":
            action = _properties(el).get("action", "") if el is not None else ""
            candidates = samples(action)
        elif local == "startEvent" or not incoming.get(current):
            candidates = [{}]
        else:
            queue.extend(incoming.get(current, []))
            continue
        for data in candidates:
            if data not in found:
                found.append(data)
    return found or [{}]


def _describe(root: etree._Element, spec: BpmnProcessSpec, process_id: str) -> dict[str, Any]:
    """Extract the metadata every other layer uses (roles, statuses, levels) from the diagram."""
    lanes = []
    role_of_node: dict[str, str] = {}  # element id → the id (role key) of the lane it sits in
    for lane in root.xpath(f'//bpmn:process[@id="{process_id}"]//bpmn:lane', namespaces=NS):
        role = lane.get("id")
        name = lane.get("name") or role
        lanes.append({"role": role, "name": name})
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            role_of_node[(ref.text or "").strip()] = role
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
                "role": role_of_node.get(name, ""),
                "lane": ts.lane or "",
                "status": props["status"],
                "action": props["action"],
                "level": props.get("level", ""),
                "report_status": props.get("report_status", ""),
                "on_behalf_roles": split_roles(props.get(ON_BEHALF_PROPERTY, "")),
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
        where = "、".join(sorted(r or "（无泳道）" for r in submitter_roles)) or "无"
        raise _Refused([(process_id, f"所有「学生提交」任务必须在同一个泳道（学生）中，现在分布在：{where}")])
    if not review_tasks:
        raise _Refused([(process_id, "流程中没有审核任务（动作为 review 的用户任务）")])
    _check_on_behalf(tasks, {lane["role"] for lane in lanes}, {t["role"] for t in review_tasks})
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


def split_roles(value: str) -> list[str]:
    """A property listing lane ids ("counselor centre" or "counselor,centre") as a list."""
    return [part for part in re.split(r"[\s,，]+", value or "") if part]


def _check_on_behalf(tasks: dict[str, dict[str, Any]], lane_roles: set[str], reviewer_roles: set[str]) -> None:
    """on_behalf_roles may sit only on submit tasks and must name lanes that hold review tasks.

    A typo would otherwise deploy a process in which nobody can 代为提交 and nobody is told why.
    """
    problems: list[tuple[str, str]] = []
    for name, task in tasks.items():
        roles = task["on_behalf_roles"]
        if not roles:
            continue
        if task["action"] != "submit":
            problems.append((name, f"「可代为提交的角色」（{ON_BEHALF_PROPERTY}）只能设在学生提交的任务上"))
            continue
        unknown = [r for r in roles if r not in lane_roles]
        if unknown:
            problems.append((name, f"「可代为提交的角色」（{ON_BEHALF_PROPERTY}）中的泳道不存在：{'、'.join(unknown)}"))
        not_reviewers = [r for r in roles if r in lane_roles and r not in reviewer_roles]
        if not_reviewers:
            problems.append((name, f"「可代为提交的角色」（{ON_BEHALF_PROPERTY}）只能是有审核任务的泳道，"
                                   f"不能是：{'、'.join(not_reviewers)}"))
    if problems:
        raise _Refused(problems)
