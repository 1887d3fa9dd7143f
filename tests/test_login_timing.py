"""The time a failed login takes tells nothing about the name: an unknown name costs what a wrong password does.

With the real (default) argon2 costs, the medians of 15 tries of each, interleaved so that the machine's load
weighs on both alike, are within 20% of each other (in one of at most three rounds). An unknown name that
skipped the stand-in verification would answer in about a millisecond against a hundred or more: this test would fail.
"""

from __future__ import annotations

import statistics
import time

from mapserver.config import PasswordHashSettings
from tests.logins import add_person, json_login, login_app

TRIES = 15
WITHIN = 0.20
ROUNDS = 3
"""Rounds of 15 + 15 at most: the test passes on the first round within 20%. Two cores shared with other work
can push one round's medians apart by chance; a name that skipped the verification fails every round."""


def _medians(client, names: dict[str, str]) -> tuple[float, float]:
    times: dict[str, list[float]] = {kind: [] for kind in names}
    for i in range(TRIES):
        for kind in (list(names) if i % 2 == 0 else list(reversed(names))):
            started = time.perf_counter()
            resp = json_login(client, names[kind], "not-the-password")
            times[kind].append(time.perf_counter() - started)
            assert resp.status_code == 401 and resp.get_json()["detail"] == "wrong name or password"
    wrong, unknown = (statistics.median(times[kind]) for kind in names)
    return wrong, unknown


def test_an_unknown_name_takes_as_long_as_a_wrong_password(store):
    real = PasswordHashSettings()  # the defaults: what a server runs with
    client = login_app(store, hashing=real, lockout_failures=100).test_client()  # up to 92 failures, not locked
    add_person(store, "zhang.wei", hashing=real)
    names = {"wrong password": "zhang.wei", "unknown name": "li.na"}
    for kind, name in names.items():  # first use of each path
        assert json_login(client, name, "not-the-password").status_code == 401, kind
    rounds = []
    for _ in range(ROUNDS):
        wrong, unknown = _medians(client, names)
        assert wrong > 0.02, f"a verification took {wrong * 1000:.1f} ms: not the real argon2 costs"
        rounds.append(f"wrong password {wrong * 1000:.1f} ms, unknown name {unknown * 1000:.1f} ms")
        if abs(wrong - unknown) <= WITHIN * max(wrong, unknown):
            return
        store.login_failures.clear(name="zhang.wei")
        store.login_failures.clear(name="li.na")
    raise AssertionError(f"medians more than {WITHIN:.0%} apart in each of {ROUNDS} rounds: {'; '.join(rounds)}")
