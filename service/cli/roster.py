"""`gradflow roster import FILE --school CODE --year YYYY`: import a roster and print the report."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

import click

from service.cli.context import open_db
from service.errors import GradflowError


@click.group("roster", help="学籍名单")
def roster_group() -> None:
    pass


class _Bars:
    """One click progress bar per stage (读取 / 校验 / 写入)."""

    def __init__(self) -> None:
        self.stage = ""
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            if total <= 0:  # nothing to do in this stage (e.g. nothing to write): no bar
                return
            self.bar = click.progressbar(length=total, label=stage, file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@roster_group.command("import", help="导入学籍名单（.xlsx 或 .csv），打印逐行结果")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "school_code", required=True, help="学校代码")
@click.option("--year", type=int, default=None, help="毕业年份（默认：设置 graduation_year）")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="另存导入报告为 .xlsx")
@click.option("--all-rows", is_flag=True, help="逐行列出全部结果（默认只列出不在范围和出错的行）")
def roster_import(file: Path, school_code: str, year: int | None, report_path: Path | None, all_rows: bool) -> None:
    from service.services import roster, roster_report
    from service.services.actors import ADMIN_ROLE, Actor
    from service.services.roster_xlsx import ReadLimits

    settings = open_db()
    actor = Actor(username=f"cli:{getpass.getuser()}", role=ADMIN_ROLE, school_code=None)
    bars = _Bars()
    try:
        report = roster.import_roster(file.read_bytes(), file.name, school_code=school_code,
                                      year=year or settings.graduation_year, actor=actor, progress=bars,
                                      limits=ReadLimits.from_settings(settings))
    except GradflowError as exc:
        bars.close()
        for column in (exc.details or {}).get("columns", []) if isinstance(exc.details, dict) else []:
            click.echo(f"missing column: {column}", err=True)
        raise click.ClickException(exc.message) from None
    bars.close()
    for row in report.rows:
        if all_rows or row["outcome"] in ("excluded", "error"):
            detail = row["reason"] or "；".join(f"{e['column']}：{e['message']}" if e["column"] else e["message"]
                                               for e in row["errors"])
            click.echo(f"row {row['row']:>6}  {row['student_no']:<16} {roster.OUTCOME_LABELS[row['outcome']]:<8} {detail}")
    c = report.counts
    click.echo(f"import {report.id}: {c['total']} rows: {c['imported']} imported, {c['updated']} updated, "
               f"{c['unchanged']} unchanged, {c['excluded']} excluded, {c['error']} errors "
               f"({report.duration_ms / 1000:.1f} s)")
    if report.created_colleges or report.created_majors:
        click.echo(f"created {len(report.created_colleges)} colleges, {len(report.created_majors)} majors")
    if report.ignored_columns:
        click.echo(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report_path is not None:
        report_path.write_bytes(roster_report.report_xlsx(report))
        click.echo(f"report written to {report_path}")


COMMANDS: list[click.Command] = [roster_group]
