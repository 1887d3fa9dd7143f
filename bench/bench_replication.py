"""What a standby costs the reports: reports/s through HTTP with no standby, an asynchronous one, a synchronous one
(``synchronous_commit = on``: a report is acknowledged once it is on the standby's disk too) and a synchronous one
that has also applied it (``remote_apply``: a read from the standby right after sees it).

Setup: a primary and a standby made here (PostgreSQL 15 from /usr/lib/postgresql/15/bin, fsync on, as in production,
in a temporary folder on free ports, run as the ``postgres`` user when run as root: tests/pgcluster.py); the demo
district loaded once (bench/bench_incidents.py's ``load_demo``); ``mapserver serve`` (gunicorn, ``--workers``)
over the libpq multi-host URL of both; wrk POSTing reports for ``--seconds`` after a warm-up, every acknowledged
report checked in the database (bench_incidents.bench_reports). The modes run turn about, ``--rounds`` times, so
that a busy machine weighs on each alike; between modes only the primary's settings change (ALTER SYSTEM, reload)
and, for "none", the standby is stopped.

Before each mode's reports, one connection times 300 small commits alone (median, p99): the wait a commit
adds in that mode. Each round starts with another mode. Ratios: each mode's median reports/s ÷ the median with no
standby (the price of the copy on a second machine), and each run ÷ the issue-5 target (1,000 reports/s).
Usage: python bench/bench_replication.py [--seconds 10] [--rounds 2] [--workers 4] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_incidents import (
    TARGET_REPORTS_PER_S,
    bench_reports,
    load_demo,
    machine,
    points_in_grids,
    server,
)

from mapserver.auth import hash_token, new_token
from mapserver.store import open_store
from tests.pgcluster import Pair

MODES = {
    "none": "no standby",
    "async": "asynchronous standby (synchronous_standby_names = '')",
    "sync": "synchronous standby, synchronous_commit = on (flushed on both)",
    "remote_apply": "synchronous standby, synchronous_commit = remote_apply (applied on the standby)",
}


def set_mode(pair: Pair, mode: str) -> None:
    """The primary's settings (and the standby running or not) for ``mode``; returns once they hold."""
    if mode == "none":
        if pair.standby.running():
            pair.standby.stop("fast")
    elif not pair.standby.running():
        pair.standby.start()
    names = "'*'" if mode in ("sync", "remote_apply") else "''"
    commit = "remote_apply" if mode == "remote_apply" else "on"
    pair.primary.sql(f"ALTER SYSTEM SET synchronous_standby_names = {names}")
    pair.primary.sql(f"ALTER SYSTEM SET synchronous_commit = {commit}")
    pair.primary.sql("SELECT pg_reload_conf()")
    if mode != "none":
        pair.synchronous = mode != "async"
        pair.wait_streaming()


def commit_latency_ms(url: str, commits: int = 300) -> tuple[float, float]:
    """Median and p99 milliseconds of one small committed INSERT on one connection, alone: the wait a commit adds
    in each mode, with less of the machine's other load in it than a rate under wrk."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, at timestamptz)")
        conn.commit()
        times = []
        for _ in range(commits):
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO bench_commit (at) VALUES (now())")
            conn.commit()
            times.append(1000 * (time.perf_counter() - started))
    finally:
        conn.close()
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    pair = Pair(synchronous=False, durable=True).create()
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    commits: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        store = open_store(pair.url)
        load_demo(store, pair.primary.url)
        operator = new_token()
        store.tokens.add(name="bench-operator", role="operator", token_hash=hash_token(operator))
        points = points_in_grids(store, 5000, seed=3)
        store.close()
        with tempfile.TemporaryDirectory() as tmp:
            names = list(MODES)
            for round_no in range(1, args.rounds + 1):
                shift = (round_no - 1) % len(names)  # each round starts with another mode: none has no fixed slot
                for mode in names[shift:] + names[:shift]:
                    label = MODES[mode]
                    set_mode(pair, mode)
                    time.sleep(1)
                    commit_p50, commit_p99 = commit_latency_ms(pair.primary.url)
                    commits[mode].append(commit_p50)
                    with server(pair.url, args.workers, Path(tmp)) as (base, pgid):
                        started = datetime.now().strftime("%H:%M:%S")
                        got = bench_reports(pair.primary.url, base, pgid, Path(tmp), operator, points, args.seconds,
                                            args.connections)
                    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
                    results[mode].append(got["per_s"])
                    print(f"round {round_no} {started} {label}: {got['per_s']:,.0f} reports/s "
                          f"(÷ target {got['per_s'] / TARGET_REPORTS_PER_S:.2f}), one commit alone "
                          f"p50 {commit_p50:.2f} ms, p99 {commit_p99:.2f} ms; reports "
                          f"p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms, {got['acknowledged']:,} "
                          f"acknowledged, {got['failed']} failed, CPU per report: PostgreSQL "
                          f"{got['postgres_us']:.0f} µs, machine {got['machine_us']:.0f} µs; load average {load}",
                          flush=True)
        standby_rows = pair.standby.sql("SELECT count(*) FROM incidents")[0][0] if pair.standby.running() else None
        primary_rows = pair.primary.sql("SELECT count(*) FROM incidents")[0][0]
        print(f"incidents on the primary {primary_rows:,}, on the standby {standby_rows:,}" if standby_rows is not None
              else f"incidents on the primary {primary_rows:,}")
    finally:
        pair.destroy()
    none = sorted(results["none"])[len(results["none"]) // 2] if results["none"] else 0.0
    for mode, label in MODES.items():
        rates = sorted(results[mode])
        if rates:
            median = rates[len(rates) // 2]
            alone = sorted(commits[mode])[len(commits[mode]) // 2]
            print(f"{label}: median {median:,.0f} reports/s ({min(rates):,.0f}–{max(rates):,.0f} over {len(rates)} "
                  f"rounds), ÷ no standby's median {median / none:.2f}; one commit alone, median of the rounds' "
                  f"medians {alone:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
