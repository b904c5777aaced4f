"""Every error leaves as JSON {code, message, details}; bad input is a 4xx, never a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException

from service.errors import GradflowError

log = logging.getLogger("gradflow.http")

_HTTP_MESSAGES = {
    400: "请求格式有误",
    401: "请先登录",
    403: "无权进行此操作",
    404: "资源不存在",
    405: "不支持该请求方法",
    409: "操作冲突，请刷新后重试",
    413: "上传的文件过大",
    415: "不支持的内容类型",
    422: "提交的数据有误",
    429: "请求过于频繁",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GradflowError)
    def _gradflow_error(exc: GradflowError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        details = None
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and "messages" in data:  # webargs/marshmallow validation
            details = data["messages"]
            for location in ("json", "query", "form", "files", "view_args"):
                if isinstance(details, dict) and set(details) == {location}:
                    details = details[location]
        code = {422: "invalid"}.get(status, (exc.name or "error").lower().replace(" ", "_"))
        return jsonify({"code": code, "message": _HTTP_MESSAGES.get(status, exc.description or ""),
                        "details": details}), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        from service.http_outage import wants_html

        if wants_html():  # a page: an HTML error page that needs no database, not raw JSON
            return render_template("outage.html", message="服务器内部错误，请稍后再试", retry_after=None), 500
        return jsonify({"code": "internal_error", "message": "服务器内部错误，请稍后再试", "details": None}), 500
