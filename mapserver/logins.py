"""Logging in and out, a person's own password change, and the lock against guessing. Times are UTC.

A login is answered the same whether the name is unknown, disabled, or has another password ("wrong name or
password"), and costs the same: a name without a usable account spends one argon2 verification on a stand-in
hash (:meth:`~mapserver.passwords.PasswordHasher.verify_nobody`).

Guessing: failed logins are counted by the name tried and by the client's address
(:class:`~mapserver.store.sessions.LoginFailures`). When either count within the last ``accounts.lockout_min``
minutes reaches ``accounts.lockout_failures``, attempts for that name or from that address are refused with 429
before any password is checked, until ``lockout_min`` minutes after the latest failure (Retry-After). Names
without an account are counted and locked like any other, so the lock tells nothing about which names exist.
Attempts refused by the lock are not counted, so a lock ends on time. A wrong current password on the password
change form counts as a failed login too: a stolen session cannot be used to guess the password.

Each step leaves its audit record (:mod:`mapserver.audit`) in the transaction of its write: ``login``,
``login.failure``, ``login.lockout``, ``logout``, ``password.change``. Passwords are never written anywhere.
The web side (:mod:`mapserver.api.login`) makes the session ids and cookies; this module stores what they
stand for.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from mapserver.audit import Actor, record
from mapserver.config import AccountSettings, PasswordHashSettings
from mapserver.errors import Problem
from mapserver.passwords import PasswordHasher, check_new_password
from mapserver.store import Store
from mapserver.store.accounts import NAME_MAX, Account

WRONG_LOGIN = "wrong name or password"
SESSION_CHALLENGE = {"WWW-Authenticate": 'Cookie realm="mapserver"'}
NEXT_MAX = 2000
"""Characters a ``next`` path may have (longer ones are not followed)."""


class WrongLogin(Problem):
    """401: the name and password do not open an account (which of the two is wrong is not said)."""

    def __init__(self) -> None:
        super().__init__(401, WRONG_LOGIN, headers=SESSION_CHALLENGE)


class LockedOut(Problem):
    """429: too many failed logins for this name or from this address; ``retry_after_s`` until the lock ends."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s, self.minutes = retry_after_s, math.ceil(retry_after_s / 60)
        super().__init__(429, f"too many failed logins for this name or from this address: try again in "
                              f"{self.minutes} minute{'s' if self.minutes != 1 else ''}",
                         headers={"Retry-After": str(retry_after_s)})


class WrongCurrent(Problem):
    """403: the current password given to change it is wrong (counted as a failed login)."""

    def __init__(self) -> None:
        super().__init__(403, "the current password is wrong", param="current_password")


class SamePassword(Problem):
    """422: the new password is the current one."""

    def __init__(self) -> None:
        super().__init__(422, "the new password is the current one; choose another", param="new_password")


@dataclass(frozen=True)
class Attempt:
    """Where a login or password change comes from: the name given, the client's address and the request's
    log id, and when."""

    name: str
    remote_addr: str
    request_id: str | None
    now: datetime

    def actor(self, role: str | None = None) -> Actor:
        """The audit's actor: the name given (not authenticated unless ``role`` is known)."""
        return Actor(name=failure_key(self.name), role=role, remote_addr=self.remote_addr, request_id=self.request_id)


@functools.lru_cache(maxsize=4)
def hasher_for(settings: PasswordHashSettings) -> PasswordHasher:
    """One hasher per set of argon2 parameters in this process, its stand-in hash made at once: were it made on
    the first unknown name, that one answer would take twice as long as a wrong password."""
    hasher = PasswordHasher(settings)
    hasher.verify_nobody("")
    return hasher


def failure_key(name: str) -> str:
    """The name a failure is counted under: what was typed, cut to the longest name an account can have and
    without NUL (PostgreSQL text cannot hold it); never empty (an audit record names its actor)."""
    return name.replace("\x00", "\ufffd")[:NAME_MAX] or "(no name)"


def lock_remaining_s(store: Store, settings: AccountSettings, *, name: str, remote_addr: str,
                     now: datetime) -> int | None:
    """Whole seconds until the lock on ``name`` or ``remote_addr`` ends (at least 1), or None when neither is
    locked."""
    lockout = timedelta(minutes=settings.lockout_min)
    counts = store.login_failures.since(name=failure_key(name), remote_addr=remote_addr, since=now - lockout)
    latest = [at for count, at in ((counts.by_name, counts.latest_by_name), (counts.by_addr, counts.latest_by_addr))
              if count >= settings.lockout_failures and at is not None]
    if not latest:
        return None
    return max(1, math.ceil((max(latest) + lockout - now).total_seconds()))


def check_login(store: Store, settings: AccountSettings, *, password: str, attempt: Attempt) -> Account:
    """The account ``attempt.name`` names when ``password`` is its own and it is enabled; else the failure is
    counted and recorded and :class:`WrongLogin` raised. :class:`LockedOut` first, while the name or address
    is locked."""
    retry = lock_remaining_s(store, settings, name=attempt.name, remote_addr=attempt.remote_addr, now=attempt.now)
    if retry is not None:
        raise LockedOut(retry)
    hasher = hasher_for(settings.password_hash)
    usable = 0 < len(attempt.name) <= NAME_MAX and "\x00" not in attempt.name
    account = store.accounts.get(attempt.name, with_hash=True) if usable else None
    if account is not None and account.enabled:
        if hasher.verify(account.password_hash, password):
            return account
        reason = "wrong password"
    else:
        hasher.verify_nobody(password)  # the same cost as a real verification: the time tells nothing either
        reason = "no such account" if account is None else "account disabled"
    record_failure(store, settings, attempt, detail={"authenticated": False, "reason": reason})
    raise WrongLogin()


def record_failure(store: Store, settings: AccountSettings, attempt: Attempt, *, detail: dict[str, object],
                   role: str | None = None) -> None:
    """Count a failed login of ``attempt`` and record it (``role``: the actor's, when a logged-in person gave a
    wrong password); when it is the one that locks the name or the address, record the lock too (once per lock:
    locked attempts are not counted)."""
    key = failure_key(attempt.name)
    lockout = timedelta(minutes=settings.lockout_min)
    with store.transaction():
        before = store.login_failures.since(name=key, remote_addr=attempt.remote_addr, since=attempt.now - lockout)
        store.login_failures.record(name=key, remote_addr=attempt.remote_addr, at=attempt.now)
        actor = attempt.actor(role)
        record(store, actor=actor, action="login.failure", target=key, detail=detail)
        locked = [what for what, count in (("name", before.by_name), ("address", before.by_addr))
                  if count + 1 == settings.lockout_failures]
        if locked:
            record(store, actor=actor, action="login.lockout", target=key, detail={
                "authenticated": role is not None, "locked": locked,
                "failures": settings.lockout_failures, "minutes": settings.lockout_min,
                "until": (attempt.now + lockout).isoformat()})


def begin_session(store: Store, settings: AccountSettings, account: Account, *, password: str, id_hash: str,
                  csrf_token: str, attempt: Attempt, replaces: str | None = None) -> None:
    """Open the session ``id_hash`` for ``account`` after a successful login: end the session ``replaces`` (the
    one the browser had, if any), forget the name's failures, store a new hash when the configured argon2 costs
    changed, and record the login."""
    hasher = hasher_for(settings.password_hash)
    rehash = hasher.hash(password) if hasher.needs_rehash(account.password_hash) else None
    with store.transaction():
        if replaces is not None:
            store.sessions.end(replaces)
        store.sessions.begin(id_hash=id_hash, account=account.name, csrf_token=csrf_token, now=attempt.now,
                             remote_addr=attempt.remote_addr)
        store.login_failures.clear(name=account.name)
        if rehash is not None:
            store.accounts.rehash(account.name, password_hash=rehash)
        record(store, actor=attempt.actor(account.role), action="login", target=account.name,
               detail={"authenticated": True, "rehashed": rehash is not None})


def end_session(store: Store, id_hash: str, *, actor: Actor) -> None:
    """Log out: end the session ``id_hash`` and record it."""
    with store.transaction():
        ended = store.sessions.end(id_hash)
        record(store, actor=actor, action="logout", target=actor.name, detail={"ended": ended})


def change_password(store: Store, settings: AccountSettings, account: Account, *, current: str, new: str,
                    id_hash: str, csrf_token: str, attempt: Attempt) -> None:
    """Give ``account`` the password ``new`` when ``current`` is its password now: every session of the account
    ends, and the session ``id_hash`` begins in their place (the browser that changed it stays logged in).

    :class:`LockedOut` while the name or address is locked; :class:`WrongCurrent` (403, counted as a failed
    login); :class:`~mapserver.passwords.WeakPassword` (422 saying why) for a new password the rules refuse,
    :class:`SamePassword` (422) for the current one.
    """
    retry = lock_remaining_s(store, settings, name=account.name, remote_addr=attempt.remote_addr, now=attempt.now)
    if retry is not None:
        raise LockedOut(retry)
    hasher = hasher_for(settings.password_hash)
    stored = store.accounts.get(account.name, with_hash=True)
    if stored is None or not hasher.verify(stored.password_hash, current):
        record_failure(store, settings, attempt, role=account.role,
                       detail={"authenticated": True, "form": "password change"})
        raise WrongCurrent()
    check_new_password(new, name=account.name, min_length=settings.password_min_length, param="new_password")
    if new == current:
        raise SamePassword()
    new_hash = hasher.hash(new)
    with store.transaction():
        ended = store.sessions.count(account.name)
        store.accounts.set_password(account.name, password_hash=new_hash, now=attempt.now)
        store.sessions.begin(id_hash=id_hash, account=account.name, csrf_token=csrf_token, now=attempt.now,
                             remote_addr=attempt.remote_addr)
        store.login_failures.clear(name=account.name)
        record(store, actor=attempt.actor(account.role), action="password.change", target=account.name,
               detail={"sessions_ended": ended})


def safe_next(target: str | None, *, default: str) -> str:
    """``target`` when it is a path on this server (``/…``, not ``//…``, no scheme, host, backslash, space or
    control character, which browsers may read as another host); else ``default``."""
    if not target or len(target) > NEXT_MAX or not target.startswith("/") or target.startswith("//"):
        return default
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
