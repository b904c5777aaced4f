"""Log a test client in (accounts created through the real service) and send the CSRF header."""

from __future__ import annotations

from typing import Any

from service.services import accounts, processes

PASSWORD = "correct-horse-1"


def make_user(username: str, role: str, school_code: str | None, **kwargs: Any):
    _, definition = processes.active_definition()
    return accounts.create_user(username, PASSWORD, role, school_code=school_code, creator=None,
                                definition=definition, **kwargs)


def login(client, username: str, school_code: str | None, password: str = PASSWORD) -> str:
    """Log in; returns the CSRF token for X-CSRF-Token."""
    response = client.post("/api/v1/auth/login",
                           json={"username": username, "password": password, "school_code": school_code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["csrf_token"]
