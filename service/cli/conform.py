"""`gradflow audit conform`: replay every record's history against its BPMN (nightly for a province)."""

from __future__ import annotations

import json
import sys

import click

from service.cli.context import open_db


@click.command("conform", help="按流程图重放每条记录的审计事件，并核对记录状态、引擎状态与待办任务")
@click.option("--school", default=None, help="only this school's records (学校代码)")
@click.option("--show", default=200, show_default=True, help="findings to print (all are counted)")
@click.option("--json", "as_json", is_flag=True, help="print the whole result as JSON")
@click.option("--progress/--no-progress", default=None, help="progress on stderr (default: when it is a terminal)")
def conform_command(school: str | None, show: int, as_json: bool, progress: bool | None) -> None:
    from service.services.conformance.run import conform, known_school

    open_db()
    if school is not None and not known_school(school):
        shown = school[:16].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
        raise click.ClickException(f"学校代码 {shown} 不存在")
    tell = sys.stderr.isatty() if progress is None else progress

    def report(done: int, total: int) -> None:
        click.echo(f"\r  {done:,}/{total:,} records", nl=done == total, err=True)

    result = conform(school=school, keep=max(show, 0), progress=report if tell else None)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    elif result.ok:
        click.echo(f"conformance ok: {result.records:,} records, {result.events:,} events in {result.seconds:.1f} s")
    else:
        click.echo(f"conformance FAILED: {result.nonconforming:,} of {result.records:,} records do not conform "
                   f"({result.events:,} events, {result.seconds:.1f} s)", err=True)
        for kind, count in result.by_kind.most_common():
            click.echo(f"  {kind:<16} {count:,}", err=True)
        for finding in result.findings[:show]:
            click.echo(f"  record {finding.record_id} ({finding.school}) {finding.kind}: {finding.message}", err=True)
        if result.nonconforming and len(result.findings) > show:
            click.echo(f"  … {len(result.findings) - show} more findings kept", err=True)
    for sha in result.incomplete_rules:
        click.echo(f"warning: version {sha[:12]} has more than the explored configurations; "
                   "some transitions may be reported wrongly", err=True)
    if not result.ok:
        raise SystemExit(1)
