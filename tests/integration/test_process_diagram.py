"""A deployed BPMN is served as a download, never as a document on the app's origin.

The attack: a diagram with `<script xmlns="http://www.w3.org/1999/xhtml">` was served as
application/xml, so opening /centre/processes/<id>/diagram.bpmn ran the script as the centre or
admin. Deploy now refuses such a file (test_process_deploy_checks); a version stored before that
check is still served only as an inert, sandboxed plain-text attachment.
"""

from __future__ import annotations

from service.models import ProcessVersion
from service.services import processes
from service.workflow.definitions import sha256_of
from tests.conftest import DEFAULT_BPMN
from tests.integration.test_web_pages import _login, org  # noqa: F401 - the fixture is used by name

SCRIPT = '<script xmlns="http://www.w3.org/1999/xhtml">fetch("/api/v1/auth/me")</script>'


def _assert_inert_download(response, version_id: int) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="process-{version_id}.bpmn"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp


def test_normal_diagram_download_headers_and_body(client, org) -> None:  # noqa: F811
    _login(client, "centre")
    version = processes.active_version()
    response = client.get(f"/centre/processes/{version.id}/diagram.bpmn")
    _assert_inert_download(response, version.id)
    assert response.data == DEFAULT_BPMN.read_bytes()  # the viewer still gets the exact XML to parse
    page = client.get(f"/centre/processes/{version.id}")
    assert page.status_code == 200 and f"/centre/processes/{version.id}/diagram.bpmn" in page.get_data(as_text=True)


def test_a_stored_diagram_with_script_is_served_inert(client, org) -> None:  # noqa: F811
    hostile = DEFAULT_BPMN.read_text(encoding="utf-8").replace(
        '<bpmn:startEvent id="start" name="开始填报">',
        f'<bpmn:startEvent id="start" name="开始填报"><bpmn:extensionElements>{SCRIPT}</bpmn:extensionElements>', 1)
    active = processes.active_version()
    # stored the way an older gradflow did (today's deploy refuses it)
    old = ProcessVersion.create(sha256=sha256_of(hostile.encode()), process_id=active.process_id, name=active.name,
                                source_name="old.bpmn", bpmn_xml=hostile, spec_json=active.spec_json, meta=active.meta,
                                deployed_by="old-gradflow")
    _login(client, "centre")
    response = client.get(f"/centre/processes/{old.id}/diagram.bpmn")
    _assert_inert_download(response, old.id)
    assert "xml" not in response.headers["Content-Type"] and "html" not in response.headers["Content-Type"]
    assert SCRIPT in response.get_data(as_text=True)  # served as text, byte for byte, not rendered
