"""The committed studio bundle is the one scripts/vendor_web_assets.sh pins, and has what the page loads.

CI never runs the script (no npm there), so nothing else notices a bundle rebuilt with other
versions than the script's, a viewer and a Modeler of different bpmn-js releases, or a template
pointing at a file the build no longer writes.
"""

from __future__ import annotations

import re

from service.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "vendor_web_assets.sh"
VENDOR = PROJECT_ROOT / "service" / "static" / "vendor"
STUDIO = VENDOR / "bpmn-studio"
TEMPLATE = PROJECT_ROOT / "service" / "templates" / "admin" / "process_editor.html"


def _pins() -> dict[str, str]:
    return dict(re.findall(r'^([A-Z_]+_VERSION)="\$\{[A-Z_]+:-([0-9.]+)\}"', SCRIPT.read_text(), re.M))


def test_the_bundle_holds_the_pinned_versions_and_the_viewer_s_bpmn_js() -> None:
    pins = _pins()
    bundled = dict(line.rsplit("@", 1) for line in (STUDIO / "VERSION").read_text().split())
    assert bundled["bpmn-js"] == pins["BPMN_JS_VERSION"] == (VENDOR / "bpmn-js" / "VERSION").read_text().strip()
    assert bundled["bpmn-js-properties-panel"] == pins["PROPERTIES_PANEL_VERSION"]
    assert bundled["@bpmn-io/properties-panel"] == pins["PANEL_CORE_VERSION"]
    assert bundled["esbuild"] == pins["ESBUILD_VERSION"]
    assert bundled["bpmn-js"].startswith("18.") and bundled["bpmn-js-properties-panel"].startswith("5.")
    assert bundled["@bpmn-io/properties-panel"].startswith("3.")


def test_every_file_the_editor_page_loads_is_committed() -> None:
    wanted = re.findall(r"filename='vendor/bpmn-studio/([^']+)'", TEMPLATE.read_text(encoding="utf-8"))
    assert "process-studio.js" in wanted and "properties-panel.css" in wanted
    for name in wanted:
        assert (STUDIO / name).is_file(), name
    # the icon font is referenced from bpmn.css as files (the CSP refuses data: fonts)
    css = (STUDIO / "bpmn-font" / "css" / "bpmn.css").read_text()
    assert "data:" not in css
    fonts = set(re.findall(r"url\('\.\./font/([\w.]+?)[?']", css))
    assert {"bpmn.woff2", "bpmn.woff", "bpmn.ttf"} <= fonts
    for font in fonts:
        assert (STUDIO / "bpmn-font" / "font" / font).is_file(), font
    licenses = (STUDIO / "LICENSE").read_text()
    for package in ("bpmn-js", "diagram-js", "bpmn-js-properties-panel", "@bpmn-io/properties-panel", "preact"):
        assert f"==== {package} " in licenses, package
    bundle = (STUDIO / "process-studio.js").read_text(encoding="utf-8")
    assert "GradflowStudio" in bundle and "http://spiffworkflow.org/bpmn/schema/1.0/core" in bundle
