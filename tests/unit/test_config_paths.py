"""Issue 10: GRADFLOW_INSTANCE_PATH moves the default SQLite database, as defaults.toml says."""

from __future__ import annotations

from pathlib import Path

from service.config import PROJECT_ROOT, load_settings


def test_instance_path_moves_the_default_sqlite_file(tmp_path: Path) -> None:
    s = load_settings(environ={"GRADFLOW_INSTANCE_PATH": str(tmp_path / "inst")})
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'inst' / 'gradflow.db'}"


def test_default_is_the_project_instance_folder_and_an_explicit_url_wins(tmp_path: Path) -> None:
    assert load_settings(environ={}).resolved_database_url == f"sqlite:///{PROJECT_ROOT / 'instance' / 'gradflow.db'}"
    s = load_settings(environ={"GRADFLOW_INSTANCE_PATH": str(tmp_path), "GRADFLOW_DATABASE_URL": "sqlite:///x.db"})
    assert s.resolved_database_url == f"sqlite:///{PROJECT_ROOT / 'x.db'}"
