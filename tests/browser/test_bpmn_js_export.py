"""What bpmn-js itself writes on an unchanged export keeps the canonical form (issue 12 defect 6).

Each vendored bundle (the viewer; the studio's Modeler once it is vendored) imports every shipped
file in a real Chromium and exports it unchanged. bpmn-js 18 then reorders the namespace
declarations, writes `&quot;` in condition text as `"`, and (the Modeler) reorders the lanes'
diagram shapes: none of that may make a new version. A shape moved with the Modeler is a new
version that differs only in layout; a renamed task is a new version that does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import PROJECT_ROOT
from service.services import processes
from service.services.processes.canonical import fingerprint

pytestmark = pytest.mark.browser

SHIPPED = sorted((PROJECT_ROOT / "bpmn").glob("*.bpmn"))
VENDOR = PROJECT_ROOT / "service" / "static" / "vendor"
VIEWER = VENDOR / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
STUDIO = VENDOR / "bpmn-studio" / "process-studio.js"
MAKERS = {VIEWER: "new BpmnJS({container: c})", STUDIO: "GradflowStudio.create({container: c, panel: p})"}
needs_studio = pytest.mark.skipif(not STUDIO.exists(), reason="the Modeler bundle arrives with the editor (h-editor)")
BUNDLES = [pytest.param(VIEWER, id="viewer"), pytest.param(STUDIO, id="modeler", marks=needs_studio)]


def _export(browser, bundle: Path, xml: str, edit: str = "") -> str:
    """Import into a fresh page with only the bundle loaded, run `edit` (JS, `m` is the modeler), export."""
    page = browser.new_page()
    try:
        page.set_content("<div id='c' style='width:1400px;height:900px'></div><div id='p'></div>")
        page.add_script_tag(path=str(bundle))
        return page.evaluate(f"""async (xml) => {{
            const c = document.getElementById('c'), p = document.getElementById('p');
            const m = {MAKERS[bundle]};
            const result = await m.importXML(xml);
            if (result.warnings.length) {{ throw new Error(result.warnings.map(w => w.message).join('; ')); }}
            {edit}
            return (await m.saveXML({{format: true}})).xml;
        }}""", xml)
    finally:
        page.close()


@pytest.mark.parametrize("bundle", BUNDLES)
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_an_unchanged_bpmn_js_export_is_the_same_version(browser, db, bundle: Path, path: Path) -> None:
    shipped = processes.deploy_file(path).version
    exported = _export(browser, bundle, path.read_text(encoding="utf-8"))
    assert exported.encode() != path.read_bytes(), "bpmn-js wrote the very same bytes: nothing was tested"
    assert fingerprint(exported.encode()).canonical_sha256 == shipped.canonical_sha256
    again = processes.deploy(exported.encode(), path.name)
    assert (again.created, again.version.id) == (False, shipped.id)


@needs_studio
def test_a_shape_moved_in_the_modeler_differs_only_in_layout(browser, db) -> None:
    v1 = processes.active_version()
    original = Path(v1.source_name)
    xml = (PROJECT_ROOT / "bpmn" / original.name).read_text(encoding="utf-8")
    moved = _export(browser, STUDIO, xml, """
        const registry = m.get('elementRegistry');
        m.get('modeling').moveElements([registry.get('fill_report')], {x: 0, y: 10});""")
    renamed = _export(browser, STUDIO, xml, """
        const registry = m.get('elementRegistry');
        m.get('modeling').updateLabel(registry.get('review_centre'), '学校审核');""")
    v2 = processes.deploy(moved.encode(), "moved.bpmn").version
    v3 = processes.deploy(renamed.encode(), "renamed.bpmn").version
    assert len({v1.id, v2.id, v3.id}) == 3
    assert [v.layout_note for v in processes.list_versions()] == ["", f"与版本 {v1.id} 仅布局不同", ""]
