"""PostgreSQL 15 clusters of a test's (or a benchmark's) own: a primary and a standby made from it with
``pg_basebackup -R``, streaming, on free local ports in a temporary folder, run as the ``postgres`` OS user
(PostgreSQL refuses to run as root).

Each cluster listens on 127.0.0.1 only, trusts local connections and keeps its socket in its own folder. fsync is
off unless ``durable``: the faults tested here stop server processes (``pg_ctl stop -m immediate``), never the
machine, so what a process wrote is in the page cache either way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.test_cli import free_port

PG_BIN = Path(os.environ.get("MAPSERVER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "mapserver"


def _as_postgres(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the ``postgres`` user when this process is root, else as ourselves."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *args], check=check, capture_output=True, text=True)


@dataclass
class Cluster:
    """One running PostgreSQL server: its data folder, port and log."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def start(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` kills it as a crash would (no shutdown checkpoint)."""
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def promote(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "promote"])

    def running(self) -> bool:
        return _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"], check=False).returncode == 0

    def sql(self, statement: str, params: tuple = (), *, database: str = DATABASE) -> list[tuple]:
        """Rows of one statement in autocommit (none for a statement that returns none)."""
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params or None)  # no parameters: a % is itself
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


class Pair:
    """A primary and a standby streaming from it (synchronous or not), in a temporary folder of their own."""

    def __init__(self, *, synchronous: bool, durable: bool = False, settings: tuple[str, ...] = ()) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mapserver-pair-"))
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.primary = Cluster(self.root / "primary", free_port())
        self.standby = Cluster(self.root / "standby", free_port())
        self.synchronous, self.durable = synchronous, durable  # durable: fsync on, as in production (benchmarks)
        self.settings = settings  # more postgresql.conf lines, written after the defaults here (so they win)

    @property
    def url(self) -> str:
        """The libpq multi-host URL a server is given: whichever of the two takes writes."""
        return (f"postgresql://postgres@127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}/{DATABASE}"
                "?target_session_attrs=read-write")

    def create(self) -> Pair:
        """initdb, start the primary with the database, base-back-up the standby with ``-R`` and start it; return
        once the standby streams (and, synchronous, is the primary's synchronous standby)."""
        return self.create_primary().create_standby()

    def create_primary(self) -> Pair:
        """initdb and start the primary with the database; no standby yet (a bulk load goes faster without one)."""
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.primary.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        settings = [
            "listen_addresses = '127.0.0.1'", f"port = {self.primary.port}",
            f"unix_socket_directories = '{self.root}'",
            *(() if self.durable else ("fsync = off", "full_page_writes = off")),
            "shared_buffers = 64MB", "max_connections = 100", "wal_level = replica", "max_wal_senders = 4",
            "hot_standby = on", "hot_standby_feedback = on", "wal_keep_size = 256MB", *self.settings,
        ]
        with open(self.primary.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")
        self.primary.start()
        self.primary.sql(f"CREATE DATABASE {DATABASE}", database="postgres")
        return self

    def create_standby(self) -> Pair:
        """Base-back-up the running primary into the standby with ``-R`` and start it; return once it streams."""
        _as_postgres([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U",
                      "postgres", "-D", str(self.standby.data), "-R", "-X", "stream", "--no-sync", "-c", "fast"])
        with open(self.standby.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"port = {self.standby.port}\ncluster_name = 'standby'\n")
        self.standby.start()
        if self.synchronous:  # only now: with no standby yet, every commit would wait for one
            self.primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
            self.primary.sql("SELECT pg_reload_conf()")
        self.wait_streaming()
        return self

    def wait_streaming(self, seconds: float = 30) -> None:
        wanted = "sync" if self.synchronous else "async"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = self.primary.sql("SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'")
            if rows and rows[0][0] == wanted:
                return
            time.sleep(0.1)
        raise AssertionError(f"the standby does not stream ({wanted}): {self.standby.log.read_text()[-2000:]}")

    def wait_replayed(self, seconds: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]:
                return
            time.sleep(0.05)
        raise AssertionError("the standby did not replay the primary's writes in time")

    def destroy(self) -> None:
        for cluster in (self.standby, self.primary):
            if cluster.data.exists() and cluster.running():
                with contextlib.suppress(subprocess.CalledProcessError):  # gone meanwhile
                    cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

