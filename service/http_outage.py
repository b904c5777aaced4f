"""A database that is down or locked answers 503 with Retry-After, not a 500.

peewee wraps the drivers' errors (psycopg2 / sqlite3 OperationalError, InterfaceError) in its own
classes; a connection refused, a server gone away or SQLite locked past the busy timeout is an
outage the client should retry. Other OperationalErrors (an SQL mistake on SQLite) stay 500s.
The API answers JSON {code, message, details}; server-rendered pages get an HTML page that needs
no database (no account lookup, no navigation).
"""

from __future__ import annotations

import logging
import sqlite3

import peewee
from flask import Flask, Response, jsonify, render_template, request

log = logging.getLogger("gradflow.http")

RETRY_AFTER_SECONDS = 30
MESSAGE = "数据库暂时无法访问，请稍后再试"
# SQLite messages that mean "not now" rather than "wrong SQL".
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database", "disk i/o error",
                     "database is busy")

try:  # PostgreSQL's driver is optional for SQLite deployments
    import psycopg2

    _DRIVER_ERRORS: tuple[type[BaseException], ...] = (psycopg2.OperationalError, psycopg2.InterfaceError)
except ImportError:  # pragma: no cover
    _DRIVER_ERRORS = ()


def is_outage(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__ or exc
    if isinstance(exc, peewee.InterfaceError) or isinstance(cause, _DRIVER_ERRORS):
        return True
    text = str(exc).lower()
    if isinstance(cause, sqlite3.OperationalError) or isinstance(exc, sqlite3.OperationalError):
        return any(marker in text for marker in _SQLITE_TRANSIENT)
    return isinstance(exc, peewee.OperationalError) and not isinstance(cause, sqlite3.Error)


def wants_html() -> bool:
    """Pages (the web blueprints, or a browser asking for HTML) get HTML; the API and /healthz JSON."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    return (request.blueprint or "").startswith("web_") or request.accept_mimetypes.accept_html


def outage_response(exc: BaseException) -> tuple[Response | str, int, dict[str, str]]:
    log.error("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_html():
        return render_template("outage.html", message=MESSAGE, retry_after=RETRY_AFTER_SECONDS), 503, headers
    return jsonify({"code": "database_unavailable", "message": MESSAGE, "details": None}), 503, headers


def install(app: Flask) -> None:
    def _handle(exc: Exception):
        if is_outage(exc):
            return outage_response(exc)
        log.exception("unhandled database error")
        if wants_html():
            return render_template("outage.html", message="服务器内部错误，请稍后再试", retry_after=None), 500
        return jsonify({"code": "internal_error", "message": "服务器内部错误，请稍后再试", "details": None}), 500

    for kind in (peewee.OperationalError, peewee.InterfaceError, sqlite3.OperationalError, sqlite3.InterfaceError,
                 *_DRIVER_ERRORS):
        app.register_error_handler(kind, _handle)
