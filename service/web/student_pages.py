"""Student pages (mobile first): choose the category, verify identity and bind, fill the report in
three steps (学校 → 个人 → 其他), save drafts, submit, and follow the review on a status page.

Identity check, binding, drafts and submission are the student services' (identity, binding,
student_report); these views only move form fields in and errors out.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from service.api.security import login_user
from service.errors import GradflowError, InvalidInput
from service.services import binding, identity, student_report
from service.services.accounts import recovery
from service.services.actors import Actor
from service.validation.identity import normalise_id_number
from service.validation.sections import CATEGORIES, CATEGORY_MAINLAND, SECTION_FIELDS
from service.validation.text import normalise_name
from service.web import forms
from service.web.common import STUDENT, check_form_csrf, page, render_error, settings

bp = Blueprint("web_student", __name__, url_prefix="/student")
bp.register_error_handler(GradflowError, render_error)

SECTIONS = list(SECTION_FIELDS)
TOKEN_KEY = "identity_check"  # {"token", "name", "id_number"} after a passed check, until binding


# --- binding ---------------------------------------------------------------------------------

@bp.get("/start")
def start() -> str:
    """选择学生类别: 中国内地学生 (实名认证 + 学籍绑定) or 港澳台学生 (学籍绑定 only)."""
    return render_template("student/start.html")


def _category(value: str | None) -> str:
    return value if value in CATEGORIES else CATEGORY_MAINLAND


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> str | Response | tuple[str, int]:
    """实名认证 for mainland students: the configured identity check issues a short-lived token."""
    errors: dict[str, list[str]] = {}
    message = ""
    form = request.form
    purpose = "recover" if request.values.get("purpose") == "recover" else "bind"
    if request.method == "POST":
        try:
            check_form_csrf()
            token = identity.verify_identity(form.get("name", ""), form.get("id_number", ""), settings(),
                                             client=request.remote_addr)
        except GradflowError as exc:
            errors, message = forms.errors_by_field(exc.details), exc.message
            return render_template("student/verify.html", form=form, errors=errors, message=message,
                                   purpose=purpose), exc.status
        session[TOKEN_KEY] = {"token": token, "name": normalise_name(form.get("name", "")),
                              "id_number": normalise_id_number(form.get("id_number", ""))}
        target = "web_student.forgot" if purpose == "recover" else "web_student.bind"
        return redirect(url_for(target, category=CATEGORY_MAINLAND))
    return render_template("student/verify.html", form=form, errors=errors, message=message, purpose=purpose)


@bp.route("/bind", methods=["GET", "POST"])
def bind() -> str | Response | tuple[str, int]:
    """学籍绑定: match the roster by 学号 + 姓名 + 证件; creates the account and logs it in."""
    category = _category(request.values.get("category"))
    checked = session.get(TOKEN_KEY) if category == CATEGORY_MAINLAND else None
    if category == CATEGORY_MAINLAND and not checked:
        return redirect(url_for("web_student.verify"))
    form: Any = request.form if request.method == "POST" else {}
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    already_bound = False
    if request.method == "POST":
        try:
            check_form_csrf()
            if form.get("password", "") != form.get("password2", ""):
                raise InvalidInput("两次输入的密码不一致", details={"password2": ["两次输入的密码不一致"]})
            req = binding.BindRequest(
                category=category, school_code=form.get("school_code", ""), student_no=form.get("student_no", ""),
                name=checked["name"] if checked else form.get("name", ""),
                id_type=form.get("id_type", "") if not checked else "01",
                id_number=checked["id_number"] if checked else form.get("id_number", ""),
                password=form.get("password", ""), verification_token=checked["token"] if checked else "",
                client=request.remote_addr,
            )
            user = binding.bind(req, settings())
        except GradflowError as exc:
            errors, message, status = forms.errors_by_field(exc.details), exc.message, exc.status
            already_bound = exc.code == "already_bound"
            if exc.code in ("identity_token_expired", "identity_token_invalid", "identity_token_mismatch"):
                session.pop(TOKEN_KEY, None)
        else:
            session.pop(TOKEN_KEY, None)
            login_user(user)
            g.pop("actor", None)
            flash("学籍绑定成功", "success")
            return redirect(url_for("web_student.home", bound=1))
    return render_template("student/bind.html", category=category, checked=checked, form=form, errors=errors,
                           message=message, id_types=forms.code_options("id_type"),
                           already_bound=already_bound), status


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> str | Response | tuple[str, int]:
    """忘记密码: the category first; mainland repeats 实名认证, then both match the roster and set a password."""
    raw = request.values.get("category")
    if raw not in CATEGORIES:
        return render_template("student/forgot_start.html")
    category = _category(raw)
    checked = session.get(TOKEN_KEY) if category == CATEGORY_MAINLAND else None
    if category == CATEGORY_MAINLAND and not checked:
        return redirect(url_for("web_student.verify", purpose="recover"))
    form: Any = request.form if request.method == "POST" else {}
    errors: dict[str, list[str]] = {}
    message, code, status = "", "", 200
    if request.method == "POST":
        try:
            check_form_csrf()
            if form.get("password", "") != form.get("password2", ""):
                raise InvalidInput("两次输入的密码不一致", details={"password2": ["两次输入的密码不一致"]})
            req = recovery.RecoverRequest(
                category=category, school_code=form.get("school_code", ""), student_no=form.get("student_no", ""),
                name=checked["name"] if checked else form.get("name", ""),
                id_type=form.get("id_type", "") if not checked else "01",
                id_number=checked["id_number"] if checked else form.get("id_number", ""),
                password=form.get("password", ""), verification_token=checked["token"] if checked else "",
                client=request.remote_addr,
            )
            user = recovery.recover_password(req, settings())
        except GradflowError as exc:
            errors, message, status, code = forms.errors_by_field(exc.details), exc.message, exc.status, exc.code
            if exc.code in ("identity_token_expired", "identity_token_invalid", "identity_token_mismatch"):
                session.pop(TOKEN_KEY, None)
        else:
            session.pop(TOKEN_KEY, None)
            login_user(user)
            g.pop("actor", None)
            flash("密码已重新设置，您已登录", "success")
            return redirect(url_for("web_student.home"))
    return render_template("student/forgot.html", category=category, checked=checked, form=form, errors=errors,
                           message=message, not_bound=code == "not_bound",
                           id_types=forms.code_options("id_type")), status


# --- the report --------------------------------------------------------------------------------

@bp.get("/")
@page(STUDENT)
def home(actor: Actor) -> str:
    """Status page: review and report status, the latest rejection comment, the review history."""
    report = student_report.get_report(actor, settings())
    return render_template("student/home.html", report=report, first_section=SECTIONS[0],
                           just_bound=request.args.get("bound") == "1",
                           views={s: forms.field_views(s, report["category"]) for s in SECTIONS},
                           sections=forms.sections())


def _step_links(current: str) -> list[dict[str, Any]]:
    return [{"key": key, "label": label, "url": url_for("web_student.section", section=key), "current": key == current}
            for key, label in forms.sections()]


@bp.route("/report/<section>", methods=["GET", "POST"])
@page(STUDENT)
def section(section: str, actor: Actor) -> str | Response | tuple[str, int]:
    """One step of the report. Buttons: 保存草稿, 上一步 / 下一步 (saving first), 提交 on the last step."""
    if section not in SECTION_FIELDS:
        return redirect(url_for("web_student.section", section=SECTIONS[0]))
    s = settings()
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    message = ""
    status = 200
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        posted = forms.section_from_form(request.form, section)
        lock = request.form.get("lock_version", "")
        try:
            saved = student_report.save_section(actor, section, posted, settings=s,
                                                expected_version=int(lock) if lock.isdigit() else None)
            warnings = saved["warnings"]
            index = SECTIONS.index(section)
            if action == "submit":
                student_report.submit(actor, s, expected_version=saved["lock_version"])
                flash("提交成功，等待学院审核", "success")
                return redirect(url_for("web_student.home"))
            if action in ("next", "prev"):
                target = SECTIONS[min(len(SECTIONS) - 1, index + 1)] if action == "next" \
                    else SECTIONS[max(0, index - 1)]
                return redirect(url_for("web_student.section", section=target))
            flash("草稿已保存", "success")
            if not warnings:
                return redirect(url_for("web_student.section", section=section))
            posted = None
        except GradflowError as exc:
            errors, message, status = forms.errors_by_field(exc.details), exc.message, exc.status
            if exc.code == "report_invalid":  # submit found problems, possibly in other steps
                posted = None
    report = student_report.get_report(actor, s)
    data = dict(report["data"].get(section) or {})
    if posted is not None:
        data.update(posted)
    locked = set(report["read_only_fields"].get(section, []))
    sections_with_errors = {path.split(".")[0] for path in errors}
    steps = _step_links(section)
    for step in steps:
        step["has_error"] = step["key"] in sections_with_errors
    other_errors = [(forms.sections_label(path), m) for path, ms in errors.items()
                    if not path.startswith(section + ".") for m in ms]
    return render_template(
        "student/section.html", report=report, section=section, steps=steps, data=data, locked=locked,
        views=forms.field_views(section, report["category"]), errors=errors, warnings=warnings, message=message,
        other_errors=other_errors, is_first=section == SECTIONS[0], is_last=section == SECTIONS[-1],
        directed_modes=",".join(forms.directed_modes()),
    ), status
