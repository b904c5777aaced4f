"""Login, logout and who-am-I. Students log in with their 学号 and their school's code."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.security import csrf_token, login_user, logout_user, require_actor
from service.models import User
from service.services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sessions")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    school_code = fields.String(load_default=None, validate=validate.Length(max=10))


class ChangePasswordSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)


class MeSchema(Schema):
    username = fields.String()
    role = fields.String()
    school_code = fields.String(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    college_ids = fields.List(fields.Integer())
    major_ids = fields.List(fields.Integer())
    csrf_token = fields.String()
    must_change_password = fields.Boolean()


def _me(actor) -> dict:
    return {
        "username": actor.username, "role": actor.role, "school_code": actor.school_code,
        "record_id": actor.record_id, "college_ids": sorted(actor.college_ids), "major_ids": sorted(actor.major_ids),
        "csrf_token": csrf_token(), "must_change_password": bool(g.get("must_change_password")),
    }


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
def login(body: dict):
    settings = current_app.config["GRADFLOW"]
    user = accounts.authenticate(body["username"], body["password"], body.get("school_code") or None,
                                 client=request.remote_addr, settings=settings)
    login_user(user)
    return _me(require_actor())


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    logout_user()
    return None


@blp.route("/me")
@blp.response(200, MeSchema)
def me():
    return _me(require_actor())


@blp.route("/password", methods=["POST"])
@blp.arguments(ChangePasswordSchema)
@blp.response(200, MeSchema)
def change_password(body: dict):
    """Change one's own password (also what a one-time code is for); the session is renewed, every other ends."""
    actor = require_actor()
    user = User.get_by_id(actor.user_id)
    accounts.change_own_password(user, body["current_password"], body["new_password"])
    login_user(User.get_by_id(user.id))
    return _me(require_actor())
