"""The gradflow command as an operator runs it: a real subprocess against a real SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_BPMN, TEST_SECRET_KEY, THREE_LEVEL_BPMN

MARKER = Path("/tmp/gradflow-evaluator-canary")


def gradflow(tmp_path: Path, *args: str, process: Path = DEFAULT_BPMN, check: bool = True,
             stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update(GRADFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", GRADFLOW_PROCESS=str(process),
               GRADFLOW_INSTANCE_PATH=str(tmp_path / "instance"),
               GRADFLOW_AUDIT_KEY="cli-test-audit-key-" + "k" * 32)
    result = subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, capture_output=True,
                            text=True, input=stdin, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"gradflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_console_script_lists_the_core_commands() -> None:
    exe = shutil.which("gradflow") or str(Path(sys.executable).parent / "gradflow")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
    for command in ("db", "process", "audit", "serve"):
        assert f"  {command} " in out


def test_db_upgrade_twice_does_nothing_the_second_time(tmp_path: Path) -> None:
    assert "applied" in gradflow(tmp_path, "db", "upgrade").stdout
    assert "up to date" in gradflow(tmp_path, "db", "upgrade").stdout


def test_deploy_same_bytes_twice_gives_one_version(tmp_path: Path) -> None:
    gradflow(tmp_path, "db", "upgrade")
    assert "created" in gradflow(tmp_path, "process", "deploy", str(THREE_LEVEL_BPMN)).stdout
    assert "already deployed" in gradflow(tmp_path, "process", "deploy", str(THREE_LEVEL_BPMN)).stdout
    listing = gradflow(tmp_path, "process", "list").stdout
    assert len([line for line in listing.splitlines() if "graduate_report_three_level.bpmn" in line]) == 1


def _malicious(tmp_path: Path, condition: str) -> Path:
    xml = DEFAULT_BPMN.read_text(encoding="utf-8").replace(
        "decision == &quot;approve&quot;</bpmn:conditionExpression>",
        condition.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") + "</bpmn:conditionExpression>",
        1,
    )
    path = tmp_path / "evil.bpmn"
    path.write_text(xml, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "condition",
    [
        f'__import__("os").system("touch {MARKER}")',
        "decision.__class__.__base__",
        f'decision == "approve" or open("{MARKER}", "w")',
    ],
)
def test_code_in_a_gateway_condition_is_refused_at_deploy(tmp_path: Path, condition: str) -> None:
    MARKER.unlink(missing_ok=True)
    gradflow(tmp_path, "db", "upgrade")
    result = gradflow(tmp_path, "process", "deploy", str(_malicious(tmp_path, condition)), check=False)
    assert result.returncode != 0
    assert "gw_review_level2" in result.stderr  # the message names the gateway
    assert not MARKER.exists(), "nothing ran"
    assert "graduate_report" not in gradflow(tmp_path, "process", "list").stdout


def test_script_task_is_refused_at_deploy(tmp_path: Path) -> None:
    xml = DEFAULT_BPMN.read_text(encoding="utf-8").replace(
        '<bpmn:startEvent id="start" name="开始填报">',
        '<bpmn:scriptTask id="sneaky"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
        '<bpmn:startEvent id="start" name="开始填报">',
    )
    path = tmp_path / "script.bpmn"
    path.write_text(xml, encoding="utf-8")
    gradflow(tmp_path, "db", "upgrade")
    result = gradflow(tmp_path, "process", "deploy", str(path), check=False)
    assert result.returncode != 0 and "sneaky" in result.stderr


def test_user_task_without_status_or_lane_is_refused(tmp_path: Path) -> None:
    xml = DEFAULT_BPMN.read_text(encoding="utf-8")
    no_status = xml.replace('<spiffworkflow:property name="status" value="中心待审" />', "")
    no_lane = xml.replace("<bpmn:flowNodeRef>review_centre</bpmn:flowNodeRef>", "")
    gradflow(tmp_path, "db", "upgrade")
    for name, text, needle in (("a.bpmn", no_status, "状态名称"), ("b.bpmn", no_lane, "泳道")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = gradflow(tmp_path, "process", "deploy", str(path), check=False)
        assert result.returncode != 0
        assert "review_centre" in result.stderr and needle in result.stderr


def test_invalid_xml_against_the_bpmn_schema_is_refused(tmp_path: Path) -> None:
    xml = DEFAULT_BPMN.read_text(encoding="utf-8").replace(
        '<bpmn:userTask id="review_centre"', '<bpmn:userTask id="review_centre" bogusAttribute="1"')
    path = tmp_path / "xsd.bpmn"
    path.write_text(xml, encoding="utf-8")
    gradflow(tmp_path, "db", "upgrade")
    result = gradflow(tmp_path, "process", "deploy", str(path), check=False)
    assert result.returncode != 0 and "review_centre" in result.stderr


def test_audit_verify_finds_an_edited_event(tmp_path: Path) -> None:
    import sqlite3

    gradflow(tmp_path, "db", "upgrade")
    gradflow(tmp_path, "process", "deploy", str(DEFAULT_BPMN), "--activate")
    gradflow(tmp_path, "process", "deploy", str(THREE_LEVEL_BPMN), "--activate")
    assert "audit chain ok" in gradflow(tmp_path, "audit", "verify").stdout
    con = sqlite3.connect(tmp_path / "cli.db")
    target = con.execute("SELECT id FROM audit_event ORDER BY seq LIMIT 1 OFFSET 1").fetchone()[0]
    con.execute("UPDATE audit_event SET actor = 'mallory' WHERE id = ?", (target,))
    con.commit()
    con.close()
    result = gradflow(tmp_path, "audit", "verify", check=False)
    assert result.returncode == 1
    assert f"event {target}" in result.stderr and "edited" in result.stderr


def test_serve_answers_healthz(tmp_path: Path) -> None:
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADFLOW_")}
    env.update(GRADFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", GRADFLOW_PROCESS=str(THREE_LEVEL_BPMN),
               GRADFLOW_SECRET_KEY=TEST_SECRET_KEY)
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    body = json.loads(resp.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "server did not answer"
        assert body == {"status": "ok"}  # anonymous: up or down only
        listed = subprocess.run([sys.executable, "-m", "service.cli", "process", "list"], env=env,
                                capture_output=True, text=True, timeout=60)
        active = [line for line in listed.stdout.splitlines() if "graduate_report_three_level.bpmn" in line]
        assert active, listed.stdout + listed.stderr
    finally:
        proc.terminate()
        proc.wait(10)
