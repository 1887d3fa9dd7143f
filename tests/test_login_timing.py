"""The time a failed login takes tells nothing about the name: an unknown name costs what a wrong password does.

With the real (default) argon2 costs, the medians of 15 tries of each, interleaved so that the machine's load
weighs on both alike, are within 20% of each other. An unknown name that skipped the stand-in verification
would answer in about a millisecond against a hundred or more: this test would fail.
"""

from __future__ import annotations

import statistics
import time

from mapserver.config import PasswordHashSettings
from tests.logins import add_person, json_login, login_app

TRIES = 15
WITHIN = 0.20


def test_an_unknown_name_takes_as_long_as_a_wrong_password(store):
    real = PasswordHashSettings()  # the defaults: what a server runs with
    client = login_app(store, hashing=real, lockout_failures=100).test_client()  # 2 × 15 failures, not locked
    add_person(store, "zhang.wei", hashing=real)
    names = {"wrong password": "zhang.wei", "unknown name": "li.na"}
    times: dict[str, list[float]] = {kind: [] for kind in names}
    for kind, name in names.items():  # first use of each path (the stand-in hash is made once)
        assert json_login(client, name, "not-the-password").status_code == 401, kind
    for i in range(TRIES):
        for kind in (list(names) if i % 2 == 0 else list(reversed(names))):
            started = time.perf_counter()
            resp = json_login(client, names[kind], "not-the-password")
            times[kind].append(time.perf_counter() - started)
            assert resp.status_code == 401 and resp.get_json()["detail"] == "wrong name or password"
    wrong, unknown = (statistics.median(times[kind]) for kind in names)
    assert wrong > 0.02, f"a verification took {wrong * 1000:.1f} ms: not the real argon2 costs"
    assert abs(wrong - unknown) <= WITHIN * max(wrong, unknown), (
        f"median of a wrong password {wrong * 1000:.1f} ms, of an unknown name {unknown * 1000:.1f} ms")
