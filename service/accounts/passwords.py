"""Which new passwords are refused: short, blank, common, or containing the phone number."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from service.errors import InvalidField

MIN_LENGTH = 10
_COMMON_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, phone: str) -> str | None:
    """Why `password` may not be used by the holder of `phone`, or None when it may."""
    if not password.strip():
        return "不能全为空白 (must not be all whitespace)"
    if len(password) < MIN_LENGTH:
        return f"至少 {MIN_LENGTH} 个字符 (at least {MIN_LENGTH} characters)"
    if phone and phone in "".join(ch for ch in password if not ch.isspace()):
        return "不能包含手机号 (must not contain the phone number)"
    if password.strip().lower() in common_passwords():
        return "过于常见，容易被猜中 (too common: easily guessed)"
    return None


def check_password(password: str, *, phone: str, field: str = "password") -> None:
    problem = password_problem(password, phone=phone)
    if problem is not None:
        raise InvalidField(field, problem)
