"""Password rules and hashing: what a guesser tries first is refused; hashes are scrypt."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from werkzeug.security import generate_password_hash

from service.errors import InvalidInput
from service.validation.text import normalise_code

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[3] / "config" / "common_passwords.txt"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """12345678, 87654321, abcdefgh: every step +1 (or every step -1)."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(text) > 1 and (steps == {1} or steps == {-1}) and (text.isdigit() or text.isalpha())


def check_password_strength(password: str, username: str = "") -> None:
    """Refuse passwords a guesser tries first: short, blank, one repeated character, a run, common, the username."""
    def weak(message: str) -> InvalidInput:
        return InvalidInput(message, code="weak_password", details={"password": [message]})

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise weak(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if not password.strip():
        raise weak("密码不能全为空格")
    folded = password.casefold()
    if len(set(folded)) == 1:
        raise weak("密码不能由同一个字符重复组成")
    if _is_sequence(folded):
        raise weak("密码不能是连续的数字或字母")
    if folded in _common_passwords() or folded.strip() in _common_passwords():
        raise weak("密码过于常见，请换一个不易被猜到的密码")
    if username and normalise_code(password).casefold() == normalise_code(username).casefold():
        raise weak("密码不能与用户名相同")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
