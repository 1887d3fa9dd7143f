"""Passwords: the rules a new one must meet, and argon2id hashes (RFC 9106) with parameters from config.

A password is refused when it is shorter than ``accounts.password_min_length``, is one of the commonly
guessed passwords shipped in ``common_passwords.txt`` (compared ignoring case and surrounding spaces), or
contains the account's own name. Hashes carry their parameters, so raising the cost in config makes
:meth:`PasswordHasher.needs_rehash` true for older hashes, and the next successful login stores a new one.
"""

from __future__ import annotations

import functools
from importlib import resources

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mapserver.config import PasswordHashSettings
from mapserver.errors import Problem

_DUMMY_PASSWORD = "not a password anyone has"  # noqa: S105 - hashed once so unknown names cost a verification too


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of commonly guessed passwords, lower-cased."""
    text = resources.files("mapserver").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_new_password(password: str, *, name: str, min_length: int) -> None:
    """422 saying why, unless ``password`` is acceptable for the account ``name``."""
    if not isinstance(password, str):
        raise Problem(400, "'password' must be a string", param="password")
    if len(password) < min_length:
        raise Problem(422, f"the password is too short: at least {min_length} characters, got {len(password)}",
                      param="password")
    if len(password) > 1024:
        raise Problem(422, "the password is too long: at most 1,024 characters", param="password")
    if password.strip().lower() in common_passwords():
        raise Problem(422, "the password is one of the most commonly guessed passwords; choose another",
                      param="password")
    if name and name.lower() in password.lower():
        raise Problem(422, "the password contains the account name; choose another", param="password")


class PasswordHasher:
    """argon2id hashing and verification with the configured costs (thread-safe)."""

    def __init__(self, settings: PasswordHashSettings) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=settings.time_cost, memory_cost=settings.memory_kib,
                                             parallelism=settings.parallelism, type=argon2.Type.ID)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of ``password`` (salt and parameters included)."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``; a damaged hash never matches."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_nobody(self, password: str) -> None:
        """Spend what a verification costs, for a name that has no account: the answer takes as long."""
        if self._dummy is None:
            self._dummy = self.hash(_DUMMY_PASSWORD)
        self.verify(self._dummy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
