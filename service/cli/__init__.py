"""The `gradflow` command: database, processes, audit, serving; feature modules add their groups."""

from __future__ import annotations

import sys

import click

from service.cli.core import audit_group, db_group, process_group, serve_command


class _Main(click.Group):
    """Operator errors that surface from deep inside a command are one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from service.services.audit import AuditKeyMissing

        try:
            return super().invoke(ctx)
        except AuditKeyMissing as exc:
            raise click.ClickException(f"审计密钥未设置 / {exc}") from None


@click.group(cls=_Main, help="gradflow: 毕业生生源信息采集与审核")
def main() -> None:
    pass


main.add_command(db_group)
main.add_command(process_group)
main.add_command(audit_group)
main.add_command(serve_command)


def _feature_commands() -> list[click.Command]:
    """The feature command groups: schools and users, roster import, seeding, the demo."""
    from service.cli import notify, org, roster
    from service.cli.demo import demo_command
    from service.cli.seed import seed_command

    return [*org.COMMANDS, *roster.COMMANDS, *notify.COMMANDS, seed_command, demo_command]


for _command in _feature_commands():
    main.add_command(_command)


def _audit_commands() -> list[click.Command]:
    from service.cli.conform import conform_command

    return [conform_command]


for _command in _audit_commands():
    audit_group.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
