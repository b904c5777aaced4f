"""Login and logout pages; the landing page sends each account to its home."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from service.api.security import current_actor, login_user, logout_user, require_actor
from service.errors import GradflowError, InvalidInput
from service.models import User
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
    if user.must_change_password:
        return redirect(url_for("web_auth.change_password"))
    return redirect(next_url or home_url(actor))


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> Response | str | tuple[str, int]:
    """修改密码; after a reset to a one-time code this is the only page the account can open."""
    actor = current_actor()
    if actor is None:
        return redirect(url_for("web_auth.login", next=request.path))
    forced = bool(g.get("must_change_password"))
    if request.method == "GET":
        return render_template("password.html", forced=forced, error=None, errors={})
    try:
        check_form_csrf()
        if request.form.get("password", "") != request.form.get("password2", ""):
            raise InvalidInput("两次输入的新密码不一致", details={"password2": ["两次输入的新密码不一致"]})
        user = User.get_by_id(require_actor().user_id)
        accounts.change_own_password(user, request.form.get("current_password", ""), request.form.get("password", ""))
    except GradflowError as exc:
        errors = exc.details if isinstance(exc.details, dict) else {}
        return render_template("password.html", forced=forced, error=exc.message, errors=errors), exc.status
    login_user(User.get_by_id(user.id))
    g.pop("actor", None)
    fresh = current_actor()
    assert fresh is not None
    flash("密码已修改", "success")
    return redirect(home_url(fresh))


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("web_auth.login"))
