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


MAX_LENGTH = 1024
"""Characters a password has at most (argon2 takes any length; this bounds the work a request can ask for)."""


def weak_password(password: str, *, name: str, min_length: int) -> tuple[str, dict[str, int]] | None:
    """Why ``password`` is not acceptable for the account ``name``, as a reason code (``too_short``, ``too_long``,
    ``common``, ``contains_name``) and its figures, for pages to say in their language; None when it is fine."""
    if len(password) < min_length:
        return "too_short", {"min": min_length, "got": len(password)}
    if len(password) > MAX_LENGTH:
        return "too_long", {"max": MAX_LENGTH}
    if password.strip().lower() in common_passwords():
        return "common", {}
    if name and name.lower() in password.lower():
        return "contains_name", {}
    return None


REASONS = {
    "too_short": "the password is too short: at least {min} characters, got {got}",
    "too_long": "the password is too long: at most {max:,} characters",
    "common": "the password is one of the most commonly guessed passwords; choose another",
    "contains_name": "the password contains the account name; choose another",
}
"""Each reason code of :func:`weak_password`, in words (English; pages say it in their language)."""


class WeakPassword(Problem):
    """422: a new password the rules refuse; ``reason`` and ``figures`` as :func:`weak_password` gives them."""

    def __init__(self, reason: str, figures: dict[str, int], *, param: str = "password") -> None:
        super().__init__(422, REASONS[reason].format(**figures), param=param)
        self.reason, self.figures = reason, figures


def check_new_password(password: str, *, name: str, min_length: int, param: str = "password") -> None:
    """422 (:class:`WeakPassword`) saying why, unless ``password`` is acceptable for the account ``name``;
    ``param``: the field that held it."""
    if not isinstance(password, str):
        raise Problem(400, f"'{param}' must be a string", param=param)
    weak = weak_password(password, name=name, min_length=min_length)
    if weak is not None:
        raise WeakPassword(*weak, param=param)


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
