"""Edits a process designer makes in the editor, applied to the XML of a shipped file."""

from __future__ import annotations

from lxml import etree

from service.workflow.definitions import BPMN_NS, NS


def move_to_lane(xml: bytes, node_ids: list[str], lane_id: str) -> bytes:
    """Move flow nodes into another lane (what dragging a task across a lane boundary does)."""
    root = etree.fromstring(xml)
    for ref in root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
        if (ref.text or "").strip() in node_ids:
            ref.getparent().remove(ref)
    lane = root.xpath(f'//bpmn:lane[@id="{lane_id}"]', namespaces=NS)[0]
    for node in node_ids:
        etree.SubElement(lane, f"{{{BPMN_NS}}}flowNodeRef").text = node
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def set_property(xml: bytes, element_id: str, name: str, value: str) -> bytes:
    root = etree.fromstring(xml)
    prop = root.xpath(f'//*[@id="{element_id}"]/bpmn:extensionElements/spiffworkflow:properties'
                      f'/spiffworkflow:property[@name="{name}"]', namespaces=NS)[0]
    prop.set("value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def centre_task_into_level1(three_level: bytes) -> bytes:
    """The original defect 4 edit: the 中心 review task dragged into the 一级 lane, so 一级 is last."""
    moved = move_to_lane(three_level, ["review_centre", "gw_review_centre"], "level1")
    return set_property(moved, "revise_report", "on_behalf_roles", "counselor level1")
