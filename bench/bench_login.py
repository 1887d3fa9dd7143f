"""What a login costs: ``POST /login`` whole, with the default argon2id costs, against a 300 ms budget.

Usage: python bench/bench_login.py [--logins N]
SQLite always (a scratch file); PostGIS too when MAPSERVER_BENCH_PG holds an
admin URL (postgresql://postgres@127.0.0.1:5432/postgres; a scratch database,
dropped afterwards).

In-process (Flask test client), each request whole: the form's fields parsed, the lock checked, the password
verified (argon2id with the defaults of config.accounts.password_hash: t=3, 64 MiB, 4 lanes), and for a
success the session begun, its cookie set and the login audited; for a failure the failure counted and
audited. Three kinds, interleaved so the machine's load weighs on each alike, ``--logins`` of each:

- success: the right password, a 303 to the wall;
- wrong password, and unknown name: the two failures, which must cost the same (the name must not show in
  the time; tests/test_login_timing.py holds them within 20%).

Milliseconds per login, median and p90, each beside the 300 ms budget as a ratio (÷ 300 ms); and, first, one
argon2id verification alone, the bulk of a login's cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_demo import machine
from scratch import scratch_database

from mapserver import create_app
from mapserver.config import AccountSettings, PasswordHashSettings, Settings, StoreSettings
from mapserver.passwords import PasswordHasher
from mapserver.store import Store, open_store

BUDGET_MS = 300.0
NAME, PASSWORD = "bench.person", "lantern-harbour-41"
KINDS = {"success": (NAME, PASSWORD, 303), "wrong password": (NAME, "not-the-password", 401),
         "unknown name": ("nobody.here", "not-the-password", 401)}


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def login_times(store: Store, logins: int) -> dict[str, list[float]]:
    """Milliseconds of each ``POST /login`` of each kind."""
    hashing = PasswordHashSettings()  # the defaults a server runs with
    # One name failing every round would be locked after 5; the bench measures the login, not the lock.
    settings = Settings(store=StoreSettings(url=store.url),
                        accounts=AccountSettings(password_hash=hashing, lockout_failures=100))
    store.accounts.add(name=NAME, role="dispatcher", grid_code=None,
                       password_hash=PasswordHasher(hashing).hash(PASSWORD), now=datetime.now(UTC))
    client = create_app(settings, store=store).test_client()
    client.get("/login")  # the login form's cookie, as a browser has it
    token = client.get_cookie("mapserver_login_form", path="/login").value
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}

    def post(kind: str, round_no: int = 0) -> float:
        name, password, status = KINDS[kind]
        address = {"REMOTE_ADDR": f"10.0.{round_no // 250}.{round_no % 250 + 1}"}  # a client of its own each round
        started = time.perf_counter()
        resp = client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"},
                           environ_base=address)
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status_code != status:
            raise SystemExit(f"{kind}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return elapsed

    for kind in KINDS:  # warm up each path (the unknown name's stand-in hash is made on first use)
        post(kind)
    for i in range(logins):
        for kind in list(KINDS)[i % len(KINDS):] + list(KINDS)[:i % len(KINDS)]:
            times[kind].append(post(kind, i))
        if i % 50 == 49:  # the unknown name fails once a round; a success clears the other's count
            store.login_failures.clear(name="nobody.here")
    return times


def verify_times(logins: int) -> list[float]:
    """Milliseconds of one argon2id verification alone with the default costs, for how much of a login it is."""
    hasher = PasswordHasher(PasswordHashSettings())
    encoded = hasher.hash(PASSWORD)
    times = []
    for _ in range(logins):
        started = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(label: str, store: Store, args: argparse.Namespace) -> None:
    alone = verify_times(args.logins)
    print(f"{label}: argon2id verification alone: median {statistics.median(alone):,.0f} ms, "
          f"p90 {_p90(alone):,.0f} ms", flush=True)
    for kind, values in login_times(store, args.logins).items():
        median, p90 = statistics.median(values), _p90(values)
        print(f"{label}: POST /login {kind}: median {median:,.0f} ms (÷ {BUDGET_MS:.0f} ms = "
              f"{median / BUDGET_MS:.2f}), p90 {p90:,.0f} ms (÷ {BUDGET_MS:.0f} ms = {p90 / BUDGET_MS:.2f}), "
              f"{len(values)} logins", flush=True)


def _with_postgis(admin: str, run: Callable[[Store], None]) -> None:
    with scratch_database(admin, "mapserver_bench_login") as url:
        store = open_store(url)
        store.migrate()
        try:
            run(store)
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=30, help="logins of each kind")
    args = parser.parse_args()
    print(machine())
    print(f"argon2id {PasswordHashSettings()!r}")
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'login.db'}")
        store.migrate()
        measure("SQLite", store, args)
        store.close()
    admin = os.environ.get("MAPSERVER_BENCH_PG")
    if admin:
        _with_postgis(admin, lambda store: measure("PostGIS", store, args))
    else:
        print("PostGIS skipped (set MAPSERVER_BENCH_PG to an admin URL)")


if __name__ == "__main__":
    main()
