"""What every CLI command needs first: settings and a bound, up-to-date database."""

from __future__ import annotations

from service.config import Settings, get_settings
from service.db import bind_database, open_database
from service.migrations import pending as pending_migrations
from service.migrations import upgrade


def open_db(*, migrate: bool = False) -> Settings:
    """Bind the configured database; with migrate=True apply pending schema steps first."""
    import click

    from service.services import audit

    settings = get_settings()
    audit.use_key(settings)
    db = bind_database(open_database(settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout))
    if migrate:
        upgrade(db)
    elif pending_migrations(db):
        raise click.ClickException("数据库结构不是最新的，请先运行 `gradflow db upgrade`")
    return settings
