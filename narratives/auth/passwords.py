"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from narratives.errors import AuthError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing a megabyte "password" is a denial of service, not a login


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_new_password(password: str) -> None:
    """Refuse a password too short or too long to be a sensible one."""
    if len(password) < MIN_LENGTH:
        raise AuthError(
            f"the password is too short ({len(password)} characters).",
            fix=f"choose one of at least {MIN_LENGTH} characters; a few unrelated words work well.",
        )
    if len(password) > MAX_LENGTH:
        raise AuthError("the password is too long.", fix=f"use at most {MAX_LENGTH} characters.")


def hash_password(password: str) -> str:
    check_new_password(password)
    return str(_hasher().hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; never raises for a wrong or malformed one."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if len(password) > MAX_LENGTH:
        return False
    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to verify against when the name is unknown, so that a wrong name takes as long as a
# wrong password (no telling which names exist from the time an answer takes).
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return str(_hasher().hash("not-a-real-password-0000"))
