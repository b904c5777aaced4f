"""Reviewer console (生源管理): majors with pending counts, search and filters, batch and single review."""

from __future__ import annotations

from flask import Blueprint

from service.errors import GradflowError
from service.web.common import render_error

bp = Blueprint("web_console", __name__, url_prefix="/console")
bp.register_error_handler(GradflowError, render_error)


@bp.get("/")
def index() -> str:
    return "TODO"
