"""Versions are keyed by a canonical form (issue 12 defect 6).

The original steps: open bpmn/graduate_report.bpmn in an editor, save it unchanged (other
whitespace, attribute order, prefixes, exporter attributes), deploy: a second version appeared.
Now the same version is found; a file whose diagram alone changed is a new version that the list
marks 与版本 N 仅布局不同; a changed label is a new version with no such mark.
"""

from __future__ import annotations

import re

import pytest
from peewee import SqliteDatabase

from service.migrations import STEPS, upgrade
from service.models import ProcessVersion
from service.services import processes
from service.services.processes.canonical import canonical_text, fingerprint
from tests.conftest import DEFAULT_BPMN, THREE_LEVEL_BPMN
from tests.integration.test_process_activate_confirm import _admin
from tests.integration.test_process_migrate_readme import gradflow
from tests.integration.test_web_pages import org  # noqa: F401 - the fixture is used by name

ORIGINAL = DEFAULT_BPMN.read_text(encoding="utf-8")
BPMN_URI = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _flat(text: str) -> str:
    """Every line's indentation gone, blank lines added: whitespace only."""
    return "\n\n".join(line.strip() for line in text.splitlines())


def _attributes_reversed(text: str) -> str:
    def flip(match: re.Match[str]) -> str:
        attrs = re.findall(r'\s+[\w:.-]+="[^"]*"', match.group(2))
        return f"<{match.group(1)}{''.join(reversed(attrs))}{match.group(3)}>"
    return re.sub(r"<([\w:]+)((?:\s+[\w:.-]+=\"[^\"]*\")+)(\s*/?)>", flip, text)


def _other_prefix(text: str) -> str:
    return text.replace("bpmn:", "model:").replace("xmlns:bpmn=", "xmlns:model=")


def _default_namespace(text: str) -> str:
    """bpmn-js style: BPMN elements in the default namespace, the bpmn prefix kept for xsi:type."""
    text = text.replace("<bpmn:", "<").replace("</bpmn:", "</")
    return text.replace('xmlns:bpmn="', f'xmlns="{BPMN_URI}" xmlns:bpmn="', 1)


def _editor_noise(text: str) -> str:
    """What an editor adds on an unchanged export: its exporter, single quotes, escaped text,
    an empty extensionElements, an empty BPMNLabel, coordinates written as decimals, isHorizontal
    dropped, a comment."""
    text = text.replace('exporter="gradflow" exporterVersion="1"', 'exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="17.11.1"')
    text = text.replace('<bpmn:startEvent id="start" name="开始填报">',
                        "<bpmn:startEvent id='start' name='&#24320;始填报'>\n<bpmn:extensionElements />")
    text = text.replace('<dc:Bounds x="172" y="142" width="36" height="36" />',
                        '<dc:Bounds x="172.0" y="142" width="36.00" height="36" /><bpmndi:BPMNLabel />')
    text = text.replace(' isHorizontal="true"', "", 1)
    return text.replace("<bpmn:laneSet", "<!-- saved by an editor --><bpmn:laneSet")


VARIANTS = {"whitespace": _flat, "attribute order": _attributes_reversed, "other prefix": _other_prefix,
            "default namespace": _default_namespace, "editor noise": _editor_noise}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_an_unchanged_file_saved_differently_is_the_same_version(db, name: str) -> None:
    before = processes.active_version()
    text = VARIANTS[name](ORIGINAL)
    assert text != ORIGINAL
    result = processes.deploy(text.encode("utf-8"), f"{name}.bpmn")
    assert (result.created, result.version.id) == (False, before.id)
    assert ProcessVersion.select().count() == 1


def test_every_variant_at_once_keeps_the_canonical_form() -> None:
    text = ORIGINAL
    for change in VARIANTS.values():
        text = change(text)
    assert canonical_text(text.encode()) == canonical_text(ORIGINAL.encode())


def test_moved_shapes_are_a_new_version_that_differs_only_in_layout(db, client, org, tmp_path) -> None:  # noqa: F811
    v1 = processes.active_version()
    moved = ORIGINAL.replace('<dc:Bounds x="300" y="120"', '<dc:Bounds x="320" y="130"')
    result = processes.deploy(moved.encode(), "moved.bpmn")
    assert result.created and result.version.id != v1.id
    assert fingerprint(moved.encode()).semantic_sha256 == v1.semantic_sha256
    assert fingerprint(moved.encode()).canonical_sha256 != v1.canonical_sha256
    relabelled = ORIGINAL.replace('name="二级审核"', 'name="辅导员审核"')
    v3 = processes.deploy(relabelled.encode(), "relabelled.bpmn").version
    v4 = processes.deploy_file(THREE_LEVEL_BPMN).version
    moved_again = moved.replace('<dc:Bounds x="470" y="280"', '<dc:Bounds x="480" y="290"')
    v5 = processes.deploy(moved_again.encode(), "moved_again.bpmn").version

    notes = {v.id: v.layout_note for v in processes.list_versions()}
    assert notes == {v1.id: "", result.version.id: f"与版本 {v1.id} 仅布局不同", v3.id: "", v4.id: "",
                     v5.id: f"与版本 {v1.id} 仅布局不同"}

    listing = gradflow(tmp_path / "gradflow.db", "process", "list").splitlines()
    assert [line.endswith(f"与版本 {v1.id} 仅布局不同") for line in listing[1:]] == [False, True, False, False, True]

    _admin(client)
    page = client.get("/centre/processes").get_data(as_text=True)
    assert page.count(f"与版本 {v1.id} 仅布局不同") == 2 and "仅布局不同" not in page.split(f"<td>{v3.id} ")[1].split("</tr>")[0]


def test_a_label_change_is_a_new_version_not_marked_as_layout(db) -> None:
    v1 = processes.active_version()
    relabelled = ORIGINAL.replace('name="中心审核"', 'name="学校审核"')
    result = processes.deploy(relabelled.encode(), "relabelled.bpmn")
    assert result.created
    assert fingerprint(relabelled.encode()).semantic_sha256 != v1.semantic_sha256
    assert [v.layout_note for v in processes.list_versions()] == ["", ""]


def test_m0012_upgrades_a_database_made_before_it(db) -> None:
    handle = db
    assert isinstance(handle, SqliteDatabase) and "m0012_process_canonical" in STEPS
    v1 = processes.active_version()
    # As it was before m0012: no columns, and an editor's re-save of v1 deployed as its own version.
    handle.execute_sql("DROP INDEX process_version_canonical_sha256")
    handle.execute_sql("DROP INDEX process_version_semantic_sha256")
    handle.execute_sql("ALTER TABLE process_version DROP COLUMN canonical_sha256")
    handle.execute_sql("ALTER TABLE process_version DROP COLUMN semantic_sha256")
    handle.execute_sql("DELETE FROM schema_migrations WHERE name = 'm0012_process_canonical'")
    resaved = _flat(ORIGINAL)
    handle.execute_sql(
        "INSERT INTO process_version (sha256, process_id, name, source_name, bpmn_xml, spec_json, meta, active, "
        "deployed_by, deployed_at) SELECT ?, process_id, name, 'resaved.bpmn', ?, spec_json, meta, 0, deployed_by, "
        "deployed_at FROM process_version WHERE id = ?", ("f" * 64, resaved, v1.id))

    assert upgrade(handle) == ["m0012_process_canonical"]
    rows = handle.execute_sql("SELECT id, canonical_sha256, semantic_sha256 FROM process_version ORDER BY id").fetchall()
    expected = fingerprint(ORIGINAL.encode())
    assert rows[0] == (v1.id, expected.canonical_sha256, expected.semantic_sha256)
    assert rows[1][1:] == (None, expected.semantic_sha256)  # the duplicate keeps NULL: the key stays unique
    assert upgrade(handle) == []  # once only

    again = processes.deploy(_attributes_reversed(ORIGINAL).encode(), "again.bpmn")
    assert (again.created, again.version.id) == (False, v1.id)
    assert [v.layout_note for v in processes.list_versions()] == ["", f"与版本 {v1.id} 仅布局不同"]
