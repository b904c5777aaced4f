"""Login and logout pages; the landing page sends each account to its home."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.api.security import current_actor, login_user, logout_user
from service.errors import GradflowError
from service.services import accounts
from service.web.common import check_form_csrf, home_url, render_error, safe_next, settings

bp = Blueprint("web_auth", __name__)
bp.register_error_handler(GradflowError, render_error)


@bp.get("/")
def index() -> Response:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("web_auth.login"))
    return redirect(home_url(actor))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    form = {"school_code": request.values.get("school_code", ""), "username": request.values.get("username", "")}
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", form=form, next_url=next_url, error=None)
    try:
        check_form_csrf()
        s = settings()
        user = accounts.authenticate(form["username"], request.form.get("password", ""),
                                     form["school_code"] or None, client=request.remote_addr, settings=s)
    except GradflowError as exc:
        return render_template("login.html", form=form, next_url=next_url, error=exc.message), exc.status
    login_user(user)
    g.pop("actor", None)
    actor = current_actor()
    assert actor is not None
    return redirect(next_url or home_url(actor))


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("web_auth.login"))
