"""Facts about the machine a benchmark ran on, for BENCHMARKS.md entries."""

from __future__ import annotations

import os


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
