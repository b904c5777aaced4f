"""`gradflow demo`: a ready-to-click school on SQLite, then the web server.

Creates/upgrades the configured database, deploys the configured BPMN, seeds a school with about
N students in 5 colleges and 20 majors (records at every status, through demo_data), imports a
few more roster students through the real roster import (not yet bound, so binding can be tried),
binds one of them through the real binding service, creates the reviewer accounts, prints the
logins and serves. Running it again reuses what is there.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import click

from service.config import Settings

DEMO_SCHOOL = ("10561", "华南示范大学")
DEMO_PASSWORD = "gradflow-demo"
ADMIN_USERNAME = "admin"
UNBOUND_SHARE = 0.05  # roster students imported without a record: they can still bind
ROSTER_HEADERS = ("学号", "姓名", "性别", "证件类型", "证件号码", "学生类别", "国籍", "考生号", "院系", "专业代码", "专业",
                  "班级", "学历", "学制", "入学年月", "毕业日期", "培养方式", "学习形式", "学籍状态", "能否正常毕业")


@dataclass
class DemoLogins:
    school_code: str
    password: str
    student: str
    counselor: str
    counselor_scope: str
    centre: str
    admin: str
    unbound_example: tuple[str, str, str] | None  # (学号, 姓名, 证件号码) of a student who can bind
    records: int
    roster_rows: int


def _roster_csv(students: list) -> bytes:
    """Generated students as a roster file with the Chinese headers the import reads."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_HEADERS)
    for st in students:
        s = st.report["school"]
        writer.writerow([st.student_no, st.name, st.gender, st.id_type, st.id_number,
                         "港澳台" if st.category == "hmt" else "内地", "中国", st.exam_no, st.college, st.major_code,
                         st.major, st.class_name, s["education_level"], f"{s['duration_years']:g}", s["enroll_date"],
                         s["grad_date"], s["training_mode"], "普通全日制", "在籍", "是"])
    return out.getvalue().encode("utf-8")


def prepare_demo(settings: Settings, *, students: int = 2000, school: tuple[str, str] = DEMO_SCHOOL,
                 password: str = DEMO_PASSWORD, colleges: int = 5, majors: int = 20, seed: int = 1,
                 unbound: int | None = None) -> DemoLogins:
    """Seed (once) and return the logins; the database must be bound and migrated.

    `unbound` roster students (default 5 %) come through the roster import without a record.
    """
    from peewee import JOIN

    from service.models import College, Record, RosterStudent, School, User
    from service.services import accounts, binding, demo_data, identity, processes, roster
    from service.services.actors import ADMIN_ROLE, SYSTEM, Actor

    processes.ensure_configured_process(settings.process_path)
    _, definition = processes.active_definition()
    code, name = school
    if not RosterStudent.select().where(RosterStudent.school == code).exists():
        extra_count = unbound if unbound is not None else max(3, int(students * UNBOUND_SHARE))
        summary = demo_data.seed_school(code, name, students=students - extra_count, seed=seed, colleges=colleges,
                                        majors=majors, year=settings.graduation_year)
        gen = demo_data.Generator(seed + 1, school_code=code, year=settings.graduation_year)
        extra = [st for st in gen.students(extra_count, gen.structure(colleges, majors), start=summary.roster_rows + 1)
                 if st.eligible]
        importer = Actor(username="demo", role=SYSTEM.role, school_code=code)
        roster.import_roster(_roster_csv(extra), "demo-roster.csv", school_code=code,
                             year=settings.graduation_year, actor=importer)
    demo_data.create_accounts(code, password)
    if not User.select().where((User.username == ADMIN_USERNAME) & User.school.is_null()).exists():
        accounts.create_user(ADMIN_USERNAME, password, ADMIN_ROLE, school_code=None, creator=None,
                             definition=definition, display_name="系统管理员")

    # The demo student: a mainland roster student bound through the real identity check + binding.
    student_role = definition.submitter_role
    bound = (User.select().where((User.school == code) & (User.role == student_role))
             .order_by(User.id).first())

    def unbound_mainland() -> RosterStudent | None:
        return (RosterStudent.select().join(Record, on=(Record.student == RosterStudent.id), join_type=JOIN.LEFT_OUTER)
                .where((RosterStudent.school == code) & RosterStudent.eligible & Record.id.is_null()
                       & (RosterStudent.category == "mainland"))
                .order_by(RosterStudent.student_no).first())

    if bound is None:
        first = unbound_mainland()
        if first is None:
            raise click.ClickException("没有可绑定的学籍学生")
        token = identity.verify_identity(first.name, first.id_number, settings)
        bound = binding.bind(binding.BindRequest("mainland", code, first.student_no, first.name, first.id_type,
                                                 first.id_number, password, token), settings)
    unbound_example = unbound_mainland()

    counselor_roles = [lv["role"] for lv in definition.meta["levels"]]
    first_level, centre_role = counselor_roles[0], counselor_roles[-1]
    counselor = (User.select().where((User.school == code) & (User.role == first_level)).order_by(User.id).first())
    centre = (User.select().where((User.school == code) & (User.role == centre_role)).order_by(User.id).first())
    scope = ""
    if counselor is not None:
        from service.models import UserScope

        grant = UserScope.select().where(UserScope.user == counselor).first()
        if grant is not None and grant.college_id:
            scope = College.get_by_id(grant.college_id).name
    school_row = School.get_by_id(code)
    return DemoLogins(
        school_code=school_row.code, password=password, student=bound.username,
        counselor=counselor.username if counselor else "", counselor_scope=scope or "全校",
        centre=centre.username if centre else "", admin=ADMIN_USERNAME,
        unbound_example=((unbound_example.student_no, unbound_example.name, unbound_example.id_number)
                         if unbound_example is not None else None),
        records=Record.select().where(Record.school == code).count(),
        roster_rows=RosterStudent.select().where(RosterStudent.school == code).count(),
    )


def print_logins(logins: DemoLogins, url: str) -> None:
    click.echo("")
    click.echo(f"gradflow 演示：{url}")
    click.echo(f"学校代码 {logins.school_code}，学籍 {logins.roster_rows} 人，生源记录 {logins.records} 条")
    click.echo("登录（学校代码 / 用户名 / 密码）:")
    click.echo(f"  学生      {logins.school_code} / {logins.student} / {logins.password}")
    click.echo(f"  辅导员    {logins.school_code} / {logins.counselor} / {logins.password}   （{logins.counselor_scope}）")
    click.echo(f"  就业中心  {logins.school_code} / {logins.centre} / {logins.password}")
    click.echo(f"  管理员    （学校代码留空） / {logins.admin} / {logins.password}   （部署流程版本）")
    if logins.unbound_example:
        no, name, number = logins.unbound_example
        click.echo(f"尚未绑定的学生（可试“学籍绑定”）：学号 {no}，姓名 {name}，身份证号 {number}")
    click.echo("")


DEMO_SECRET_FILE = "demo-secret-key"


def demo_secret_key(instance_dir: Path) -> str:
    """The demo's own random secret: generated once into the instance folder (mode 0600), then reused.

    Only the demo runs on a generated key; `gradflow serve` and gunicorn need the operator's.
    """
    path = instance_dir / DEMO_SECRET_FILE
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        path.unlink()
        return demo_secret_key(instance_dir)
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def demo_settings(settings: Settings) -> Settings:
    """The operator's secret when one is set and strong, else the demo's generated one."""
    from service.config import InsecureConfiguration, check_secret_key

    try:
        check_secret_key(settings.secret_key)
        return settings
    except InsecureConfiguration:
        return replace(settings, secret_key=demo_secret_key(settings.instance_dir))


@click.command("demo", help="创建演示数据库（约 2000 名学生）并启动服务，打印三个演示账号")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--students", default=2000, show_default=True, type=click.IntRange(50, 200_000))
@click.option("--no-serve", is_flag=True, help="只准备数据，不启动服务")
def demo_command(port: int, host: str, students: int, no_serve: bool) -> None:
    from service import create_app
    from service.cli.context import open_db
    from service.services import audit

    settings = demo_settings(open_db(migrate=True))
    audit.use_key(settings)  # the key the served app will use, before seeding writes any event
    logins = prepare_demo(settings, students=students)
    url = f"http://{host}:{port}"
    print_logins(logins, url)
    if no_serve:
        return
    app = create_app(settings)
    app.run(host=host, port=port, threaded=True, use_reloader=False)
