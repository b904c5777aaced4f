"""`gradflow seed`: fill a school with realistic roster rows and records at every status, in bulk."""

from __future__ import annotations

import time

import click

from service.cli.context import open_db


@click.command("seed", help="生成演示/压测数据：学院、专业、学籍名单和各状态的生源记录（批量写入）")
@click.option("--students", type=click.IntRange(1, 2_000_000), default=1000, show_default=True)
@click.option("--school", "school_code", default="10561", show_default=True, help="院校代码（5位）")
@click.option("--name", "school_name", default="华南理工大学", show_default=True)
@click.option("--colleges", type=click.IntRange(1, 10), default=5, show_default=True)
@click.option("--majors", type=click.IntRange(1, 36), default=20, show_default=True)
@click.option("--seed", "seed", type=int, default=1, show_default=True, help="随机种子（相同种子生成相同数据）")
@click.option("--accounts-password", default=None, help="同时创建审核账号（各学院一个第一级账号，其余各级全校账号）")
def seed_command(students: int, school_code: str, school_name: str, colleges: int, majors: int, seed: int,
                 accounts_password: str | None) -> None:
    from service.services import demo_data, processes

    settings = open_db(migrate=True)
    processes.ensure_configured_process(settings.process_path)
    started = time.perf_counter()
    summary = demo_data.seed_school(school_code, school_name, students=students, seed=seed, colleges=colleges,
                                    majors=majors)
    elapsed = time.perf_counter() - started
    click.echo(f"school {school_code}: {summary.colleges} colleges, {summary.majors} majors, "
               f"{summary.roster_rows} roster rows, {summary.records} records in {elapsed:.1f} s")
    for status, n in summary.by_status.items():
        click.echo(f"  {status}: {n}")
    if accounts_password:
        for username, role, college in demo_data.create_accounts(school_code, accounts_password):
            click.echo(f"  account {username} ({role}{', college ' + str(college) if college else ''})")
