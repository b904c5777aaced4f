"""Trust hardening of the HTTP layer, installed by one line in create_app: security headers,
the request-input guard and 503 answers for a database outage."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    from service import http_headers, http_input, http_outage

    http_input.install(app)
    http_headers.install(app)
    http_outage.install(app)
