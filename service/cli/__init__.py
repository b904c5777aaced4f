"""The `gradflow` command: database, processes, audit, serving; feature modules add their groups."""

from __future__ import annotations

import sys

import click

from service.cli.core import audit_group, db_group, process_group, serve_command


@click.group(help="gradflow: 毕业生生源信息采集与审核")
def main() -> None:
    pass


main.add_command(db_group)
main.add_command(process_group)
main.add_command(audit_group)
main.add_command(serve_command)


def _feature_commands() -> list[click.Command]:
    """Command groups added by feature modules; each module lists itself here (one line each)."""
    commands: list[click.Command] = []
    from service.cli import org; commands += org.COMMANDS  # noqa: E702, I001
    from service.cli import roster; commands += roster.COMMANDS  # noqa: E702, I001
    from service.cli.seed import seed_command; commands.append(seed_command)  # noqa: E702, I001
    from service.cli.demo import demo_command; commands.append(demo_command)  # noqa: E702, I001
    return commands


for _command in _feature_commands():
    main.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
