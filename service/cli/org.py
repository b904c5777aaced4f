"""`gradflow school add` and `gradflow user add`: the accounts a school starts with."""

from __future__ import annotations

import sys

import click

from service.cli.context import open_db
from service.errors import GradflowError


@click.group("school", help="学校")
def school_group() -> None:
    pass


@school_group.command("add", help="添加学校（CODE 为5位院校代码）")
@click.argument("code")
@click.argument("name")
def school_add(code: str, name: str) -> None:
    from service.services import schools

    open_db()
    try:
        school = schools.add_school(code, name)
    except GradflowError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"school {school.code} {school.name} added")


@click.group("user", help="账号")
def user_group() -> None:
    pass


def _read_password() -> str:
    """Interactive: prompt twice without echo; piped: the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("密码", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command("add", help="添加账号；密码从标准输入读取。ROLE 为流程泳道中的角色、admin 或 province（省级）")
@click.argument("username")
@click.option("--role", required=True, help="角色：当前流程的泳道 id（如 counselor、centre）、admin 或 province（省级，不属于任何学校）")
@click.option("--school", "school_code", default=None, help="学校代码（admin、province 以外必填）")
@click.option("--college", "colleges", multiple=True, help="可管辖的院系名称（可多次）")
@click.option("--major", "majors", multiple=True, help="可管辖的专业代码或名称（可多次）")
@click.option("--name", "display_name", default="", help="显示名")
def user_add(username: str, role: str, school_code: str | None, colleges: tuple[str, ...],
             majors: tuple[str, ...], display_name: str) -> None:
    from service.services import accounts

    open_db()
    password = _read_password()
    try:
        # creator=None: the operator at the command line, the only one who may create admin accounts.
        # The role may be one of a deployed version not yet active (accounts before activation).
        user = accounts.create_user(username, password, role, school_code=school_code, creator=None,
                                    colleges=list(colleges),
                                    majors=list(majors), display_name=display_name)
    except GradflowError as exc:
        raise click.ClickException(exc.message) from None
    scope = ", ".join([*colleges, *majors]) or ("whole school" if school_code else "all schools")
    click.echo(f"user {user.username} ({user.role}, school {school_code or '-'}) added; scope: {scope}")


COMMANDS: list[click.Command] = [school_group, user_group]
