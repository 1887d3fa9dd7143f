"""A fork taken while a thread of this process is building a derived value: does the child build for itself?"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from mapserver.derived import DerivedData, Kind


def fork_while_building(derived: DerivedData, *, in_child: Callable[[], None] = lambda: None) -> tuple[int, str]:
    """Fork while one of this process's threads holds the build lock of a new value in ``derived``.

    The child runs ``in_child`` (e.g. ``derived.after_fork``), then asks for the value; its exit status is 0 only if
    it built the value itself within 5 s (a lock held by the parent's thread, which the child lacks, would make it
    wait for ever). Returns the child's exit code and the value the parent's thread built.
    """
    parent = os.getpid()
    started, release = threading.Event(), threading.Event()

    def held(_derived: DerivedData) -> str:
        if os.getpid() == parent:
            started.set()
            release.wait(10)
        return f"built in {os.getpid()}"

    kind = Kind("held", layers=("grids",), build=held, check_every_s=0.0)
    builder = threading.Thread(target=derived.get, args=(kind,))
    builder.start()
    assert started.wait(10)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(5)
            in_child()
            code = 0 if derived.get(kind) == f"built in {os.getpid()}" else 2
        finally:
            os._exit(code)
    release.set()
    builder.join(10)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), derived.get(kind)
