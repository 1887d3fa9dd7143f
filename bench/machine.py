"""Facts about the machine a benchmark ran on, for BENCHMARKS.md entries."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


def cpu_model() -> str:
    """The CPU model named in /proc/cpuinfo ("unknown CPU" elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")),
                        "unknown CPU")
    except OSError:
        return "unknown CPU"


def cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _proc_stats() -> list[list[str]]:
    """Each live process's /proc/PID/stat fields after "pid (comm)", with its pid and comm put first."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            head, tail = stat.read_text().rsplit(")", 1)
            out.append([stat.parent.name, head.split("(", 1)[1], *tail.split()])
    return out


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used by a process group so far: its live processes, plus the reaped workers (the leader's
    children's time), from /proc."""
    total = 0
    for pid, _, *fields in _proc_stats():
        if int(fields[2]) == pgid:  # state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if int(pid) == pgid:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def command_cpu_s(comm: str) -> float:
    """CPU seconds used so far by the live processes named ``comm`` (e.g. every PostgreSQL backend)."""
    total = sum(int(f[13]) + int(f[14]) for f in _proc_stats() if f[1] == comm)
    return total / os.sysconf("SC_CLK_TCK")


def busy_cpu_s() -> float:
    """CPU seconds all processes have spent since boot (user, nice, system; interrupt time, which is charged to
    no process, left out), from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as fh:
        user, nice, system = (int(v) for v in fh.readline().split()[1:4])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")
