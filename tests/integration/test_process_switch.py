"""Swapping the BPMN file changes the system's behaviour with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import get_settings
from service.models import ProcessInstance
from service.services import processes
from service.services.transitions import complete_task
from tests.conftest import TEST_SECRET_KEY, THREE_LEVEL_BPMN
from tests.support import factories as f


def _run_to_second_review(process: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Start the app the way production does (GRADFLOW_* environment), then walk one record."""
    from service import create_app
    from service.db import database
    from service.migrations import upgrade

    monkeypatch.setenv("GRADFLOW_PROCESS", str(process))
    monkeypatch.setenv("GRADFLOW_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("GRADFLOW_DATABASE_URL", f"sqlite:///{tmp_path / process.stem}.db")
    get_settings.cache_clear()
    settings = get_settings()
    create_app(settings)
    upgrade(database.obj)
    processes.ensure_configured_process(settings.process_path)
    sch = f.school()
    maj = f.major(f.college(sch))
    rec = f.record(maj)
    complete_task(rec.id, f.actor("student", sch, record_id=rec.id))
    complete_task(rec.id, f.actor("counselor", sch), decision="approve")
    _, definition = processes.active_definition()
    get_settings.cache_clear()
    return [ProcessInstance.get(ProcessInstance.record == rec.id).status, *definition.statuses]


def test_three_level_file_makes_level_one_appear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default_status, *default_statuses = _run_to_second_review(get_settings().process_path, tmp_path, monkeypatch)
    three_status, *three_statuses = _run_to_second_review(THREE_LEVEL_BPMN, tmp_path, monkeypatch)
    assert default_status == "中心待审" and "一级待审" not in default_statuses
    assert three_status == "一级待审" and "一级待审" in three_statuses
