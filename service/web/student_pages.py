"""Student pages (mobile first): choose the category, verify and bind, the report in three steps."""

from __future__ import annotations

from flask import Blueprint

from service.errors import GradflowError
from service.web.common import render_error

bp = Blueprint("web_student", __name__, url_prefix="/student")
bp.register_error_handler(GradflowError, render_error)


@bp.get("/start")
def start() -> str:
    return "TODO"


@bp.get("/")
def home() -> str:
    return "TODO"
