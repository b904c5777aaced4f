"""Issue 10: `gradflow roster import` crashed (TypeError, exit 1) when nothing needed writing, and
never printed the per-row report then; it also showed only the first error of a row."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli_core import gradflow
from tests.support import roster_files


def _setup(tmp_path: Path) -> None:
    gradflow(tmp_path, "db", "upgrade")
    gradflow(tmp_path, "school", "add", "10561", "华南示范大学")


def test_reimporting_the_same_file_reports_every_row_unchanged(tmp_path: Path) -> None:
    _setup(tmp_path)
    f = tmp_path / "roster.xlsx"
    f.write_bytes(roster_files.xlsx_bytes([roster_files.student(n) for n in range(1, 4)]))
    first = gradflow(tmp_path, "roster", "import", str(f), "--school", "10561", "--year", "2021")
    assert "3 imported" in first.stdout
    again = gradflow(tmp_path, "roster", "import", str(f), "--school", "10561", "--year", "2021", "--all-rows")
    assert "Traceback" not in again.stderr
    assert "3 unchanged" in again.stdout
    assert again.stdout.count("row ") == 3


def test_a_first_import_where_every_row_is_an_error_prints_each_row_and_all_its_errors(tmp_path: Path) -> None:
    _setup(tmp_path)
    f = tmp_path / "bad.xlsx"
    f.write_bytes(roster_files.xlsx_bytes([roster_files.student(n, 证件号码="123", 学历="99") for n in range(1, 3)]))
    result = gradflow(tmp_path, "roster", "import", str(f), "--school", "10561", "--year", "2021", check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert "2 errors" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("row ")]
    assert len(rows) == 2
    for line in rows:  # both problems of the row, not only the first
        assert "证件号码" in line and "学历" in line, line
