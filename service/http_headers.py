"""Security headers on every response.

- Content-Security-Policy: scripts only from our own files (no inline <script>, no on*= handlers,
  no javascript: URLs in templates: put code in service/static/js), no plugins, no framing, forms
  post only to us. Inline style attributes stay allowed (templates and bpmn-js use them).
- X-Frame-Options / X-Content-Type-Options / Referrer-Policy for older browsers and downloads.
- Cache-Control: no-store on everything but static files: pages, API answers, exports and sign-off
  PDFs carry personal data (full 证件号码 for the centre) that no browser or proxy cache may keep.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.pop("ETag", None)
    return response


def install(app: Flask) -> None:
    app.after_request(add_security_headers)
