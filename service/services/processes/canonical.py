"""Canonical forms of a BPMN file: what makes two files the same version, or differ only in layout.

A version is keyed by the sha256 of its canonical form, not of its bytes, so opening a file in an
editor and saving it unchanged finds the existing version instead of creating a new one. The
canonical form is the parsed document written out in one fixed way:

- names are `{namespace URI}local`, so prefixes (`bpmn:` or a default namespace) do not count,
  nor do the namespace declarations an exporter adds; `xsi:type` values are QNames, resolved too;
- attributes are sorted; the `exporter` / `exporterVersion` attributes are ignored;
- whitespace-only text is dropped and other text is stripped; comments and processing
  instructions are dropped; quoting and escaping disappear with parsing;
- empty `extensionElements` and empty `BPMNLabel` elements (an exporter's leftovers) are dropped;
  `isHorizontal="true"` (what bpmn-js assumes and writes for pools and lanes) counts as absent;
- numbers in the diagram (bounds, waypoints) are compared as numbers: "120.0" == "120";
- children of containers whose order means nothing (process, lane set, lane, properties …)
  are sorted; elsewhere (waypoints, incoming/outgoing, condition text) document order is kept.

The semantic form is the canonical form without the diagram (`bpmndi:BPMNDiagram`): two versions
with equal semantic forms differ only in layout.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from service.workflow.definitions import read_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

IGNORED_ATTRIBUTES = frozenset({"exporter", "exporterVersion"})
DIAGRAM_NAMESPACES = frozenset({BPMNDI, DC, DI})
# Containers whose children's order carries no meaning for gradflow, SpiffWorkflow or the drawing.
UNORDERED = frozenset({
    f"{{{BPMN}}}definitions", f"{{{BPMN}}}process", f"{{{BPMN}}}collaboration", f"{{{BPMN}}}laneSet",
    f"{{{BPMN}}}lane", f"{{{BPMN}}}extensionElements", f"{{{SPIFF}}}properties", f"{{{BPMNDI}}}BPMNPlane",
})
DROPPED_WHEN_EMPTY = frozenset({f"{{{BPMN}}}extensionElements", f"{{{BPMNDI}}}BPMNLabel"})
DIAGRAM = f"{{{BPMNDI}}}BPMNDiagram"


@dataclass(frozen=True)
class Fingerprint:
    canonical_sha256: str
    semantic_sha256: str


def fingerprint(xml: bytes) -> Fingerprint:
    """Both hashes of a BPMN file; raises ProcessValidationError when it is not readable XML."""
    root = read_xml(xml)
    return Fingerprint(_sha(_node(root, keep_diagram=True)), _sha(_node(root, keep_diagram=False)))


def canonical_text(xml: bytes, *, keep_diagram: bool = True) -> str:
    """The canonical form itself (JSON), for tests and for looking at why two files differ."""
    return _dump(_node(read_xml(xml), keep_diagram=keep_diagram))


def _sha(node: Any) -> str:
    return hashlib.sha256(_dump(node).encode("utf-8")).hexdigest()


def _dump(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def _node(el: etree._Element, *, keep_diagram: bool) -> list[Any] | None:
    """[tag, [[attr, value] …], text, [children …]] or None for an element that does not count."""
    tag = el.tag
    if not isinstance(tag, str):  # comment, processing instruction, entity
        return None
    if tag == DIAGRAM and not keep_diagram:
        return None
    namespace = etree.QName(el).namespace or ""
    attrs = sorted(
        [name, _value(el, name, value, namespace)]
        for name, value in el.attrib.items()
        if name not in IGNORED_ATTRIBUTES and not (name == "isHorizontal" and value.strip() == "true")
    )
    text = (el.text or "").strip()
    children = [n for n in (_node(child, keep_diagram=keep_diagram) for child in el) if n is not None]
    if tag in UNORDERED:
        children.sort(key=_dump)
    if tag in DROPPED_WHEN_EMPTY and not children and not attrs and not text:
        return None
    return [tag, attrs, text, children]


def _value(el: etree._Element, name: str, value: str, namespace: str) -> str:
    if name == XSI_TYPE:
        return _resolve_qname(el, value)
    if namespace in DIAGRAM_NAMESPACES:
        return _number(value)
    return value


def _resolve_qname(el: etree._Element, value: str) -> str:
    prefix, _, local = value.strip().rpartition(":")
    uri = el.nsmap.get(prefix or None)
    return f"{{{uri}}}{local}" if uri else value.strip()


def _number(value: str) -> str:
    """"120.0", "120" and " 120 " are one coordinate; anything not a number stays as written."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    return str(int(number)) if number.is_integer() else repr(number)
