"""Refuse request input no handler can store or parse, before any view sees it.

- JSON nested deeper than MAX_JSON_DEPTH (1,000 levels made the parser raise RecursionError: a 500),
  measured on the raw bytes before parsing: 400 `json_too_deep`.
- NUL characters (PostgreSQL text cannot hold them) and lone surrogates such as "\\ud800" (no UTF-8
  encoding exists, so the database driver or the log line fails) in any JSON string or key, form
  field, query parameter or upload file name: 422 `invalid_characters`, naming the field.

Everything is a GradflowError, so the API answers JSON and the web pages their error page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from service.errors import GradflowError, InvalidInput

MAX_JSON_DEPTH = 32
# No JSON call needs more (the largest is a batch review's id list); uploads are multipart, not JSON.
MAX_JSON_BYTES = 2 * 1024 * 1024
# Only these bytes matter for nesting: brackets, and quotes/backslashes to skip strings.
_STRUCTURE = b'[]{}"\\'
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)


class BadRequestBody(GradflowError):
    status, code, default_message = 400, "bad_request", "请求格式有误"


class PayloadTooLarge(GradflowError):
    status, code, default_message = 413, "payload_too_large", "请求内容过大"


def json_depth(raw: bytes, limit: int) -> int:
    """Deepest [ / { nesting of a JSON text (strings skipped); stops counting once past `limit`."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw.translate(None, _NOT_STRUCTURE):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def bad_character(text: str) -> str | None:
    """The first NUL or lone surrogate in `text`, if any."""
    for ch in text:
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            return ch
    return None


def _refuse(field: str, ch: str) -> InvalidInput:
    what = "空字符（NUL）" if ch == "\x00" else "无效的 Unicode 字符"
    message = f"“{field}”中含有{what} U+{ord(ch):04X}，请删除后重试"
    return InvalidInput(message, code="invalid_characters", details={field: [message]})


def _walk(value: Any, path: str) -> None:
    if isinstance(value, str):
        ch = bad_character(value)
        if ch is not None:
            raise _refuse(path or "请求内容", ch)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            ch = bad_character(name)
            if ch is not None:
                raise _refuse(f"{path}.{name}" if path else name, ch)
            _walk(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]" if path else f"[{index}]")


def check_request() -> None:
    for name, value in request.args.items(multi=True):
        _walk(value, name)
    if request.is_json:
        if (request.content_length or 0) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"请求内容过大（JSON 最多 {MAX_JSON_BYTES // 1024 // 1024} MB）", code="json_too_large")
        raw = request.get_data(cache=True)
        if len(raw) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"请求内容过大（JSON 最多 {MAX_JSON_BYTES // 1024 // 1024} MB）", code="json_too_large")
        if raw and json_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise BadRequestBody(f"请求内容嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）", code="json_too_deep")
        body = request.get_json(silent=True)
        if body is not None:
            _walk(body, "")
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            _walk(name, name)
            _walk(value, name)
        for name, upload in request.files.items(multi=True):
            _walk(upload.filename or "", name)


def install(app: Flask) -> None:
    app.before_request(check_request)
