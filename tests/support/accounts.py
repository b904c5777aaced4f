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


def bind_roster_row(row: dict[str, Any], settings: Any, password: str, school_code: str = "10561") -> None:
    """实名认证 + 学籍绑定 of a mainland roster row (tests.support.roster_files.student), as the service does it."""
    from service.services import binding, identity

    token = identity.verify_identity(row["姓名"], row["证件号码"], settings)
    binding.bind(binding.BindRequest(category="mainland", school_code=school_code, student_no=row["学号"],
                                     name=row["姓名"], id_type="01", id_number=row["证件号码"],
                                     password=password, verification_token=token), settings)
