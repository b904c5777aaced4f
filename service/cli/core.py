"""Core commands: db upgrade, process deploy/list/activate/migrate, audit verify, serve."""

from __future__ import annotations

from pathlib import Path

import click

from service.cli.context import open_db
from service.errors import GradflowError, ProcessValidationError


def _fail(exc: GradflowError) -> click.ClickException:
    return click.ClickException(exc.message)


@click.group("db", help="数据库结构")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="创建或升级数据库结构（重复运行不做任何事）")
def db_upgrade() -> None:
    from service.config import get_settings
    from service.db import bind_database, open_database
    from service.migrations import upgrade

    settings = get_settings()
    db = bind_database(open_database(settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout))
    applied = upgrade(db)
    if applied:
        click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        click.echo("database is up to date")


@click.group("process", help="流程版本：部署、查看、启用、迁移")
def process_group() -> None:
    pass


@process_group.command("deploy", help="校验并部署 BPMN 文件（内容相同，即使空白、属性顺序不同，也不会重复创建版本）")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--activate/--no-activate", default=False, help="部署后作为新记录使用的版本")
def process_deploy(file: Path, activate: bool) -> None:
    from service.services import processes

    open_db()
    try:
        result = processes.deploy_file(file, activate=activate)
    except ProcessValidationError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem.label()}：{problem.problem}", err=True)
        raise _fail(exc) from None
    except GradflowError as exc:
        raise _fail(exc) from None
    v = result.version
    state = "created" if result.created else "already deployed"
    click.echo(f"version {v.id} {v.sha256[:12]} ({v.process_id}) {state}{', activated' if result.activated else ''}")


@process_group.command("list", help="列出已部署的流程版本")
def process_list() -> None:
    from service.services import processes

    open_db()
    click.echo(f"{'id':>4}  {'sha256':12}  {'active':6}  {'instances':>9}  {'waiting':>7}  process")
    for v in processes.list_versions():
        note = f"  {v.layout_note}" if v.layout_note else ""
        click.echo(f"{v.id:>4}  {v.sha256[:12]}  {'yes' if v.active else '':6}  {v.instances:>9}  {v.waiting:>7}  "
                   f"{v.process_id} ({v.source_name}){note}")


@process_group.command("activate", help="指定新记录使用的流程版本（全部学校，或用 --school 指定学校）")
@click.argument("version")
@click.option("--school", "schools", multiple=True, help="只对这些学校启用（学校代码，可重复）")
@click.option("--confirm", "confirmed", multiple=True,
              help="确认一项权限变化（其标识见未确认时的输出，可重复），如 last_role:centre:level1")
def process_activate(version: str, schools: tuple[str, ...], confirmed: tuple[str, ...]) -> None:
    """Like the review page: a change of a role's level, or of which role is last (and sees full
    证件号码), must be confirmed by its key, or nothing is activated."""
    from service.services.actors import SYSTEM
    from service.services.processes import review

    open_db()
    try:
        v = review.activate_reviewed(version, actor=SYSTEM, schools=list(schools) if schools else None,
                                     confirmed=set(confirmed))
    except GradflowError as exc:
        for item in exc.details if exc.code == "confirmation_required" and isinstance(exc.details, list) else []:
            click.echo(f"unconfirmed: --confirm {item['key']}  {item['sentence']}", err=True)
        raise _fail(exc) from None
    where = f"for {', '.join(dict.fromkeys(schools))}" if schools else "for every school"
    click.echo(f"version {v.id} {v.sha256[:12]} is active {where}")


@process_group.command("rollback", help="重新启用上一个启用过的版本（运行中的记录保持原版本）")
@click.option("--school", default=None, help="只回滚这所学校单独启用的版本")
def process_rollback(school: str | None) -> None:
    from service.services import processes

    open_db()
    try:
        v = processes.rollback(school=school)
    except GradflowError as exc:
        raise _fail(exc) from None
    click.echo(f"version {v.id} {v.sha256[:12]} is active {'for ' + school if school else 'for every school'}")


@process_group.command("migrate", help="把等待中的流程实例迁移到指定版本")
@click.option("--to", "target", required=True, help="目标版本（id 或 sha256 前缀）")
@click.option("--dry-run", is_flag=True, help="只统计，不修改")
@click.option("--school", default=None, help="只迁移这所学校（学校代码）的记录")
@click.option("--ids/--no-ids", "show_ids", default=False, help="列出未迁移记录的 id")
def process_migrate(target: str, dry_run: bool, school: str | None, show_ids: bool) -> None:
    from service.services.processes.migration import migrate

    open_db()
    try:
        report = migrate(target, dry_run=dry_run, school=school)
    except GradflowError as exc:
        raise _fail(exc) from None
    verb = "would migrate" if dry_run else "migrated"
    click.echo(f"{verb}: {report.migrated}")
    click.echo(f"refused: {report.refused_total}")
    for reason, count in report.refused.most_common():
        click.echo(f"  {count:>6}  {reason}")
    if report.by_status:
        click.echo("by status:")
    for row in report.breakdown():
        click.echo(f"  {row.status}: {row.total}")
        for status, count in row.moves.most_common():
            click.echo(f"    → {status}: {count}")
        for refusal in row.refusals:
            click.echo(f"    refused {refusal.count}: {refusal.reason}; {refusal.next_text}")
            if show_ids:
                click.echo(f"      records: {' '.join(str(i) for i in refusal.record_ids)}")


@click.group("audit", help="审计记录")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="校验全部审计链：改动、删除末尾事件、删除整链都会报出")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False),
              help="also check against a checkpoint written by `gradflow audit checkpoint`")
def audit_verify(checkpoint_file: str | None) -> None:
    from service.services import audit

    open_db()
    checkpoint = _read_checkpoint(checkpoint_file) if checkpoint_file else None
    try:
        result = audit.verify(checkpoint=checkpoint)
    except audit.CheckpointInvalid as exc:
        raise click.ClickException(str(exc)) from None
    suffix = f", checked against a checkpoint of {result.checkpoint_chains} chains" if checkpoint else ""
    if result.ok:
        click.echo(f"audit chain ok: {result.events} events in {result.chains} chains{suffix}")
        return
    click.echo(f"audit chain BROKEN: {len(result.problems)} problem(s) in {result.events} events, "
               f"{result.chains} chains{suffix}", err=True)
    for problem in result.problems[:200]:
        where = f" (event {problem.event_id})" if problem.event_id is not None else ""
        click.echo(f"  {problem.kind:<13} {problem.message}{where}", err=True)
    if len(result.problems) > 200:
        click.echo(f"  … and {len(result.problems) - 200} more", err=True)
    raise SystemExit(1)


def _read_checkpoint(path: str) -> dict:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"无法读取检查点文件 {path}: {exc}") from None


@audit_group.command("checkpoint", help="导出全部审计链的链头（带签名），请保存到数据库服务器以外")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
              help="file to write (keep it away from the database server; `-` for stdout)")
def audit_checkpoint(out_file: str) -> None:
    import json

    from service.services import audit

    open_db()
    data = audit.checkpoint()
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if out_file == "-":
        click.echo(text)
        return
    with open(out_file, "w", encoding="utf-8") as fh:
        fh.write(text)
    click.echo(f"checkpoint of {len(data['heads'])} chains written to {out_file}")


@audit_group.command("reseal", help="用审计密钥重新签名升级前写下的（未加密钥的）审计链；被改动的链不处理")
def audit_reseal() -> None:
    from service.services import audit

    open_db()
    report = audit.reseal()
    click.echo(f"resealed: {report.resealed}, already keyed: {report.already_keyed}, refused: {len(report.refused)}")
    for chain_key in report.refused[:50]:
        click.echo(f"  refused (does not verify as an unkeyed chain either): {chain_key}", err=True)
    if report.refused:
        raise SystemExit(1)


@click.command("serve", help="启动服务（开发服务器）")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    from service import create_app
    from service.config import InsecureConfiguration, check_secret_key, get_settings
    from service.services import processes

    try:
        check_secret_key(get_settings().secret_key)  # before touching the database
    except InsecureConfiguration as exc:
        raise click.ClickException(str(exc)) from None
    settings = open_db(migrate=True)
    processes.ensure_configured_process(settings.process_path)
    app = create_app(settings)
    app.run(host=host, port=port, threaded=True)
