"""What changes between two process versions: a semantic diff and an element diff.

`semantic_diff` compares what gradflow reads from a diagram (the `meta` of
service/workflow/definitions.py): roles, the review levels and their roles, status labels, the last
(school-wide) role, 代为提交 roles and the submitter. Each change is a Chinese sentence for the
review page plus a machine-readable kind. Changes that move powers between existing accounts — a
role's levels, which role is last (it sees full 证件号码 and the audit log), the submitter — carry
`needs_confirmation` and a stable `key`: activation refuses until every such key is confirmed
(issue 12 defect 4), because a lane move in the editor changes them without any other sign.

`element_diff` compares the BPMN elements by id (attributes, properties, flows, lane membership)
so the review page can colour what was added, removed or changed on the two diagrams.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from service.workflow.definitions import BPMN_NS, NS, read_xml


@dataclass(frozen=True)
class Change:
    """One semantic change; `key` is what a confirmation checkbox sends back (stable, ASCII)."""

    kind: str
    sentence: str
    key: str
    needs_confirmation: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _labels(meta: dict[str, Any]) -> dict[str, str]:
    return {lane["role"]: lane["name"] for lane in meta.get("lanes", [])}


def _levels_of(meta: dict[str, Any]) -> dict[str, list[str]]:
    """role → the level names it reviews, in flow order."""
    out: dict[str, list[str]] = {}
    for lv in meta.get("levels", []):
        out.setdefault(lv["role"], []).append(lv["level"])
    return out


def _last_role(meta: dict[str, Any]) -> str:
    levels = meta.get("levels", [])
    return levels[-1]["role"] if levels else ""


def _name(labels: dict[str, str], role: str) -> str:
    return labels.get(role) or role or "（无）"


def semantic_diff(old_meta: dict[str, Any], new_meta: dict[str, Any]) -> list[Change]:
    """Every change of what gradflow reads, role changes first, those needing confirmation marked."""
    changes: list[Change] = []
    old_labels, new_labels = _labels(old_meta), _labels(new_meta)
    both_labels = {**old_labels, **new_labels}

    for role, name in new_labels.items():
        if role not in old_labels:
            changes.append(Change("role_added", f"新增角色「{name}」（{role}）", f"role_added:{role}",
                                  data={"role": role, "name": name}))
        elif old_labels[role] != name:
            changes.append(Change("role_renamed", f"角色 {role} 的名称由「{old_labels[role]}」改为「{name}」",
                                  f"role_renamed:{role}", data={"role": role, "old": old_labels[role], "new": name}))
    for role, name in old_labels.items():
        if role not in new_labels:
            changes.append(Change("role_removed", f"删除角色「{name}」（{role}）", f"role_removed:{role}",
                                  data={"role": role, "name": name}))

    changes.extend(_level_changes(old_meta, new_meta, old_labels, new_labels, both_labels))
    changes.extend(_task_changes(old_meta, new_meta, both_labels))

    old_sub, new_sub = old_meta.get("submitter_role", ""), new_meta.get("submitter_role", "")
    if old_sub != new_sub:
        changes.append(Change(
            "submitter_changed",
            f"填报角色由「{_name(old_labels, old_sub)}」改为「{_name(new_labels, new_sub)}」",
            f"submitter:{old_sub}:{new_sub}", needs_confirmation=True, data={"old": old_sub, "new": new_sub}))
    return changes


def _level_changes(old_meta: dict[str, Any], new_meta: dict[str, Any], old_labels: dict[str, str],
                   new_labels: dict[str, str], both_labels: dict[str, str]) -> list[Change]:
    changes: list[Change] = []
    old_levels = [lv["level"] for lv in old_meta.get("levels", [])]
    new_levels = [lv["level"] for lv in new_meta.get("levels", [])]
    for lv in new_meta.get("levels", []):
        if lv["level"] not in old_levels:
            changes.append(Change("level_added", f"新增审核层级「{lv['level']}」（状态 {lv['status']}，"
                                                 f"由「{_name(both_labels, lv['role'])}」审核）",
                                  f"level_added:{lv['level']}", data=dict(lv)))
    for lv in old_meta.get("levels", []):
        if lv["level"] not in new_levels:
            changes.append(Change("level_removed", f"删除审核层级「{lv['level']}」（状态 {lv['status']}）",
                                  f"level_removed:{lv['level']}", data=dict(lv)))
    if old_levels != new_levels:
        changes.append(Change("level_order", f"审核顺序由 {' → '.join(old_levels) or '（无）'} 变为 "
                                             f"{' → '.join(new_levels) or '（无）'}",
                              # a new or removed level moves the roles after it (the centre of
                              # 二级 → 中心 becomes the third of three): confirmed, like any level change
                              f"level_order:{'+'.join(new_levels)}", needs_confirmation=True,
                              data={"old": old_levels, "new": new_levels}))
    old_role_of = {lv["level"]: lv["role"] for lv in old_meta.get("levels", [])}
    for lv in new_meta.get("levels", []):
        before = old_role_of.get(lv["level"])
        if before is not None and before != lv["role"]:
            changes.append(Change("level_role_changed",
                                  f"审核层级「{lv['level']}」的审核角色由「{_name(both_labels, before)}」"
                                  f"改为「{_name(both_labels, lv['role'])}」",
                                  f"level_role:{lv['level']}", data={"level": lv["level"], "old": before,
                                                                     "new": lv["role"]}))

    # A role that exists in the old version and reviews other levels now: its accounts gain or lose powers.
    old_by_role, new_by_role = _levels_of(old_meta), _levels_of(new_meta)
    submitters = {old_meta.get("submitter_role"), new_meta.get("submitter_role")}
    for role in old_labels:
        if role in submitters:
            continue
        before, after = old_by_role.get(role, []), new_by_role.get(role, [])
        if before == after:
            continue
        name = _name(both_labels, role)
        if after:
            text = (f"「{name}」审核的层级由 {'、'.join(before) or '（无）'} 变为 {'、'.join(after)}")
        else:
            text = f"「{name}」将不再审核任何层级（原为 {'、'.join(before)}）"
        changes.append(Change("role_levels_changed", text, f"role_levels:{role}:{'+'.join(after)}",
                              needs_confirmation=True, data={"role": role, "old": before, "new": after}))

    old_last, new_last = _last_role(old_meta), _last_role(new_meta)
    if old_last != new_last:
        changes.append(Change(
            "last_role_changed",
            f"{_name(old_labels, old_last)} 不再是最后一级，{_name(new_labels, new_last)} "
            "将能看到完整证件号码和审计日志，并管理全校",
            f"last_role:{old_last}:{new_last}", needs_confirmation=True, data={"old": old_last, "new": new_last}))
    return changes


def _task_changes(old_meta: dict[str, Any], new_meta: dict[str, Any], labels: dict[str, str]) -> list[Change]:
    changes: list[Change] = []
    old_tasks: dict[str, dict[str, Any]] = old_meta.get("tasks", {})
    new_tasks: dict[str, dict[str, Any]] = new_meta.get("tasks", {})
    for name, task in new_tasks.items():
        title = f"「{task.get('title') or name}」（{name}）"
        before = old_tasks.get(name)
        if before is None:
            changes.append(Change("task_added", f"新增环节{title}，状态「{task['status']}」", f"task_added:{name}",
                                  data={"task": name, "status": task["status"]}))
            continue
        if before["status"] != task["status"]:
            changes.append(Change("status_changed", f"环节{title}的状态由「{before['status']}」改为「{task['status']}」",
                                  f"status:{name}", data={"task": name, "old": before["status"], "new": task["status"]}))
        if before.get("report_status", "") != task.get("report_status", ""):
            changes.append(Change("report_status_changed",
                                  f"环节{title}的上报状态由「{before.get('report_status') or '（无）'}」"
                                  f"改为「{task.get('report_status') or '（无）'}」",
                                  f"report_status:{name}", data={"task": name}))
        old_ob, new_ob = before.get("on_behalf_roles", []), task.get("on_behalf_roles", [])
        if old_ob != new_ob:
            added = [r for r in new_ob if r not in old_ob]
            removed = [r for r in old_ob if r not in new_ob]
            parts = []
            if added:
                parts.append("新增 " + "、".join(_name(labels, r) for r in added))
            if removed:
                parts.append("不再允许 " + "、".join(_name(labels, r) for r in removed))
            changes.append(Change("on_behalf_changed", f"环节{title}可代为提交的角色：{'；'.join(parts) or '顺序改变'}",
                                  f"on_behalf:{name}", data={"task": name, "old": old_ob, "new": new_ob}))
    for name, task in old_tasks.items():
        if name not in new_tasks:
            changes.append(Change("task_removed", f"删除环节「{task.get('title') or name}」（{name}），"
                                                  f"状态「{task['status']}」",
                                  f"task_removed:{name}", data={"task": name, "status": task["status"]}))
    old_ends: dict[str, dict[str, Any]] = old_meta.get("ends", {})
    for name, end in new_meta.get("ends", {}).items():
        before = old_ends.get(name)
        if before is not None and before["status"] != end["status"]:
            changes.append(Change("end_status_changed", f"结束事件 {name} 的状态由「{before['status']}」改为「{end['status']}」",
                                  f"end_status:{name}", data={"end": name, "old": before["status"], "new": end["status"]}))
    old_statuses, new_statuses = set(old_meta.get("statuses", [])), set(new_meta.get("statuses", []))
    for s in new_meta.get("statuses", []):
        if s not in old_statuses:
            changes.append(Change("status_added", f"新增审核状态「{s}」", f"status_added:{s}", data={"status": s}))
    for s in old_meta.get("statuses", []):
        if s not in new_statuses:
            changes.append(Change("status_removed", f"不再使用审核状态「{s}」", f"status_removed:{s}",
                                  data={"status": s}))
    return changes


def confirmations_needed(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.needs_confirmation]


# --- element diff ----------------------------------------------------------------------------

# Containers are left out: a marker on the pool would tint the whole diagram, and what changes in
# them (lanes, tasks, flows) is marked on those elements; their names are in the semantic diff.
_CONTAINERS = frozenset({"definitions", "collaboration", "participant", "process", "laneSet"})


def _signature(el: etree._Element, lane_of: dict[str, str]) -> tuple[Any, ...]:
    """What makes an element the same: tag, attributes but id, its properties, flows, texts, its lane.

    Diagram interchange (shapes, coordinates) is not part of it: moving a box is not a change.
    """
    attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if k != "id"))
    props = tuple(sorted(
        (p.get("name", ""), p.get("value", ""))
        for p in el.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)))
    children = []
    for child in el:
        if not isinstance(child.tag, str) or child.get("id") or child.tag.endswith("}extensionElements"):
            continue
        children.append((etree.QName(child).localname, (child.text or "").strip(),
                         tuple(sorted((k, v) for k, v in child.attrib.items()))))
    return (etree.QName(el).localname, attrs, props, tuple(sorted(children)), lane_of.get(el.get("id", ""), ""))


def _elements(xml: bytes | str) -> dict[str, tuple[Any, ...]]:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = read_xml(data)
    lane_of: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = lane.get("id", "")
    found: dict[str, tuple[Any, ...]] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS or not el.get("id"):
            continue
        if etree.QName(el).localname in _CONTAINERS:
            continue
        found[el.get("id", "")] = _signature(el, lane_of)
    return found


@dataclass
class ElementDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]

    def to_dict(self) -> dict[str, list[str]]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def element_diff(old_xml: bytes | str, new_xml: bytes | str) -> ElementDiff:
    """Element ids added, removed and changed between two BPMN files (for colouring the diagrams)."""
    old, new = _elements(old_xml), _elements(new_xml)
    return ElementDiff(
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        changed=sorted(i for i in set(old) & set(new) if old[i] != new[i]),
    )
