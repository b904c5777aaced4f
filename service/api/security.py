"""Who is calling: the session cookie names a server-side session; state changes need the CSRF token too.

The signed cookie carries only a random session token (and the CSRF token); the session itself is a
row (accounts.start_session) checked on every request together with its user, so logout, a
password change or disabling the account ends it even for a copied cookie. A cookie whose session
is gone is cleared and the request is anonymous (API: 401; pages: redirect to login).

The CSRF token lives in the session and is mirrored in a readable `csrf_token` cookie; a
state-changing request made with the session cookie must send it back in the X-CSRF-Token header
(or a `csrf_token` form field, for the server-rendered pages).

An account whose password was reset to a one-time code (user.must_change_password) may, until it
changes it, only change it, ask who it is, or log out: the API answers 403 password_change_required,
pages redirect to the change-password page.

Cookies get the Secure flag per `session_cookie_secure`: "true", "false", or "auto" = whenever the
request is HTTPS (behind a proxy only when `trusted_proxies` lets ProxyFix read X-Forwarded-Proto).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response as WerkzeugResponse

from service.errors import PermissionDenied, Unauthorized
from service.models import User
from service.services import accounts
from service.services.actors import Actor

CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_EXEMPT_ENDPOINTS: set[str] = set()
SESSION_KEY = "sid"  # the session token in the signed cookie
# What an account that must change its password may still reach (endpoint names of the views).
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout", "auth.me", "web_auth.change_password",
                             "web_auth.logout", "static"}


def cookie_secure() -> bool:
    """The Secure flag for our cookies, per the session_cookie_secure setting."""
    mode = current_app.config["GRADFLOW"].session_cookie_secure
    if mode == "true":
        return True
    if mode == "false":
        return False
    return has_request_context() and request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, with the Secure flag decided per request ("auto").

    Flask builds a new signing serializer (and probes its JSON serializer) twice per request; the
    keys do not change while the app runs, so one is built per key set and kept.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], Any] = {}

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure()

    def get_signing_serializer(self, app: Flask) -> Any:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(key)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is not None:
                self._serializers = {key: found}  # one app, one key set: nothing piles up
        return found


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def login_user(user: User) -> None:
    """A fresh server-side session (and CSRF token); any session the cookie named before ends."""
    previous = session.get(SESSION_KEY)
    if previous:
        accounts.end_session(previous)
    session.clear()
    session[SESSION_KEY] = accounts.start_session(user, current_app.config["GRADFLOW"].session_lifetime_seconds)
    session.permanent = True
    g.pop("actor", None)
    g.pop("must_change_password", None)
    csrf_token()


def logout_user() -> None:
    """End the session on the server, so a copy of the cookie is worthless too."""
    token = session.get(SESSION_KEY)
    if token:
        accounts.end_session(token)
    session.clear()
    g.pop("actor", None)


def current_actor() -> Actor | None:
    """The caller, loaded once per request in one statement (session, account, grants, record)."""
    if "actor" not in g:
        token = session.get(SESSION_KEY)
        caller = accounts.caller_for_session(token) if isinstance(token, str) else None
        if caller is None and SESSION_KEY in session:
            session.clear()  # revoked, expired or disabled: the cookie is dropped
        g.actor = caller.actor if caller is not None else None
        g.must_change_password = bool(caller is not None and caller.must_change_password)
    return g.actor


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        raise Unauthorized()
    return actor


def login_required(roles: Callable[[Actor], list[str]] | list[str] | None = None) -> Callable:
    """Decorator: the view gets `actor`; `roles` (or a callable giving them for the caller, whose
    school may run another process version) limits who may call."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = require_actor()
            allowed = roles(actor) if callable(roles) else roles
            if allowed is not None and actor.role not in allowed:
                raise PermissionDenied()
            return view(*args, actor=actor, **kwargs)

        return wrapper

    return decorate


def install(app: Flask) -> None:
    app.session_interface = SessionInterface()

    @app.before_request
    def _load_session() -> None:
        if SESSION_KEY in session:
            current_actor()  # a dead session is cleared here, before CSRF and the view

    @app.before_request
    def _require_password_change() -> WerkzeugResponse | None:
        if not g.get("must_change_password") or request.endpoint in PASSWORD_CHANGE_ENDPOINTS:
            return None
        if request.path.startswith("/api/"):
            raise PermissionDenied("请先修改密码：重置后的一次性密码只能用来设置新密码",
                                   code="password_change_required")
        return redirect(url_for("web_auth.change_password"))

    @app.before_request
    def _check_csrf() -> None:
        if request.method in SAFE_METHODS or SESSION_KEY not in session:
            return
        if request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not sent or not hmac.compare_digest(sent, expected):
            raise PermissionDenied("安全校验失败（CSRF），请刷新页面后重试", code="csrf_failed")

    @app.after_request
    def _mirror_csrf(response: Response) -> Response:
        if SESSION_KEY in session:
            token = csrf_token()
            if request.cookies.get(CSRF_COOKIE) != token:
                response.set_cookie(CSRF_COOKIE, token, samesite="Lax", secure=cookie_secure())
        return response
