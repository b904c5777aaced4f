"""Who is calling: the session cookie names a user; state changes need the CSRF token too.

The CSRF token lives in the session and is mirrored in a readable `csrf_token` cookie; a
state-changing request made with the session cookie must send it back in the X-CSRF-Token header
(or a `csrf_token` form field, for the server-rendered pages).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, g, request, session

from service.errors import PermissionDenied, Unauthorized
from service.models import User
from service.services.actors import Actor, actor_for_user

CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_EXEMPT_ENDPOINTS: set[str] = set()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def login_user(user: User) -> None:
    session.clear()
    session["uid"] = user.id
    session.permanent = True
    csrf_token()


def logout_user() -> None:
    session.clear()


def current_actor() -> Actor | None:
    if "actor" not in g:
        uid = session.get("uid")
        user = User.get_or_none((User.id == uid) & (User.active == True)) if uid else None  # noqa: E712
        g.actor = actor_for_user(user) if user is not None else None
    return g.actor


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        raise Unauthorized()
    return actor


def login_required(roles: Callable[[], list[str]] | list[str] | None = None) -> Callable:
    """Decorator: the view gets `actor`; `roles` (or a callable giving them) limits who may call."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = require_actor()
            allowed = roles() if callable(roles) else roles
            if allowed is not None and actor.role not in allowed:
                raise PermissionDenied()
            return view(*args, actor=actor, **kwargs)

        return wrapper

    return decorate


def install(app: Flask) -> None:
    @app.before_request
    def _check_csrf() -> None:
        if request.method in SAFE_METHODS or "uid" not in session:
            return
        if request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not sent or not hmac.compare_digest(sent, expected):
            raise PermissionDenied("安全校验失败（CSRF），请刷新页面后重试", code="csrf_failed")

    @app.after_request
    def _mirror_csrf(response: Response) -> Response:
        if "uid" in session:
            token = csrf_token()
            if request.cookies.get(CSRF_COOKIE) != token:
                response.set_cookie(CSRF_COOKIE, token, samesite="Lax", secure=request.is_secure)
        return response
