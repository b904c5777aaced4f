"""The JSON API under /api/v1, documented as OpenAPI 3 at /api/openapi.json (flask-smorest)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

api = Api()


def register_api(app: Flask) -> None:
    from service.api import auth, health

    app.config.setdefault("API_TITLE", "gradflow")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    api.register_blueprint(health.blp)
    api.register_blueprint(auth.blp)
    for module in _feature_blueprints():
        api.register_blueprint(module.blp)


def _feature_blueprints() -> list:
    """The feature blueprints, in the order their endpoints appear in the OpenAPI document."""
    from service.api import (
        accounts,
        analytics,
        audit,
        chase,
        codes,
        deadline,
        notify,
        processes,
        province,
        records,
        reviews,
        roster,
        student,
    )

    return [codes, student, roster, records, reviews, audit, deadline, accounts, chase, notify, processes, province,
            analytics]
