"""A throwaway PostgreSQL cluster for the DuckLake catalog (tests/test_ducklake.py, bench/bench_lake.py):
Debian's `postgresql` server binaries, a unix socket in a temp dir, no TCP, trust auth."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Debian's `postgresql` puts the server under /usr/lib/postgresql/<major>/bin (newest major wins)
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed() -> bool:
    return (PG_BIN / "postgres").exists()


class Postgres:
    """A throwaway PostgreSQL cluster: unix socket in a temp dir, no TCP. PostgreSQL refuses to run
    as root, so as root (CI) the server runs as the `postgres` user the Debian package creates."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.data, self.sock = root / "data", root / "sock"
        self.sock.mkdir(parents=True)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            uid = pwd.getpwnam("postgres")
            for p in (root, self.sock):
                os.chown(p, uid.pw_uid, uid.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "tower", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(PG_BIN / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.sock} -c listen_addresses=''", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """A new empty database (one lake catalog each); returns its DSN."""
        self._run("createdb", "-h", str(self.sock), "-p", str(self.port), "-U", "tower", name)
        return self.dsn_for(name)

    def dsn_for(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.sock} port={self.port} user=tower"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")


@contextmanager
def throwaway() -> Iterator[Postgres]:
    """A started cluster, stopped and deleted afterwards (also if the caller stopped it already)."""
    pg = Postgres(Path(tempfile.mkdtemp(prefix="tower-pg-")))  # not under pytest's root-only tmp
    pg.start()
    try:
        yield pg
    finally:
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(pg.root, ignore_errors=True)
