"""gradflow: graduate origin information (生源信息) collection and review, driven by BPMN.

`create_app` is the application factory (the Flask tutorial's pattern): settings come from
service.config, the database is bound once, blueprints are registered.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from service.config import Settings, check_secret_key, load_settings

# Row ids are 32-bit on PostgreSQL (serial); a larger number in a URL would reach the database
# and fail there, so every <int:…> in a route only matches 0 … 2^31-1 (anything else is a 404).
MAX_DATABASE_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(map, *args, **kwargs)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    from service.api import register_api
    from service.api.errors import register_error_handlers
    from service.api.security import install as install_security
    from service.db import (
        begin_request_memo,
        bind_database,
        end_request_memo,
        open_database,
        release_request_connection,
    )
    from service.http_hardening import install as install_hardening
    from service.services import audit, notify

    settings = settings or load_settings(**overrides)
    check_secret_key(settings.secret_key)  # raises InsecureConfiguration: never run on a guessable key
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, instance_path=str(settings.instance_dir), instance_relative_config=False)
    app.config.update(
        GRADFLOW=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime_seconds),
        JSON_AS_ASCII=False,
        # The server-side session has a fixed expiry (accounts.start_session): re-signing and re-sending
        # the cookie on every response would only cost time.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.converters["int"] = DatabaseIdConverter
    audit.use_key(settings)
    notify.configure(settings)
    if settings.trusted_proxies > 0:
        # Behind N reverse proxies: client address, scheme and host come from their X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    bind_database(open_database(settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout,
                                checkpoint_seconds=settings.sqlite_checkpoint_seconds))

    @app.before_request
    def _begin_memo() -> None:
        begin_request_memo()

    @app.teardown_appcontext
    def _release_db(_exc: BaseException | None) -> None:
        end_request_memo()
        release_request_connection()

    install_security(app)
    install_hardening(app)
    register_api(app)
    register_error_handlers(app)
    _register_web(app)
    if settings.notify_worker:
        from service.services.notify.sender import start_worker

        start_worker(settings)
    return app


def _register_web(app: Flask) -> None:
    """Server-rendered pages, when the web package is present."""
    try:
        from service.web import register_web
    except ImportError:
        return
    register_web(app)
