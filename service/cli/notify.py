"""`gradflow notify run`: deliver the outbox (once until nothing is due, or --watch to keep going)."""

from __future__ import annotations

import signal
import threading

import click

from service.cli.context import open_db


@click.group("notify", help="消息发送（邮件、Webhook）")
def notify_group() -> None:
    pass


@notify_group.command("run", help="发送待发消息：默认发完为止；--watch 持续运行（替代后台发送线程）")
@click.option("--watch", is_flag=True, help="keep running, polling every notify_poll_seconds")
def notify_run(watch: bool) -> None:
    from service.services.notify import sender

    settings = open_db()
    if watch:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        click.echo("notify sender running (Ctrl-C to stop)")
        sender.run_forever(settings, stop)
        return
    total = sender.RunStats()
    while True:
        stats = sender.run_once(settings)
        total.add(stats)
        if not (stats.sent or stats.retried or stats.failed):
            break
    click.echo(f"sent {total.sent}, retry later {total.retried}, failed {total.failed}, "
               f"released stale claims {total.released}, scheduled {total.scheduled}")
    for line in total.errors[-10:]:
        click.echo(f"  {line}", err=True)


@notify_group.command("status", help="各状态的投递数")
def notify_status() -> None:
    from peewee import fn

    from service.models import Delivery

    open_db()
    counts = dict(Delivery.select(Delivery.status, fn.COUNT(Delivery.id)).group_by(Delivery.status).tuples())
    for status in ("pending", "sending", "sent", "failed"):
        click.echo(f"{status:8} {counts.get(status, 0)}")


COMMANDS = [notify_group]
