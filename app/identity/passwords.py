"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id
#: verified against when the account does not exist, so timing does not tell (enumeration)
_DUMMY = _HASHER.hash("not-a-password-of-anyone")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; also spends the same time when there is no hash."""

    def check() -> bool:
        try:
            return _HASHER.verify(stored or _DUMMY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
