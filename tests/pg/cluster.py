"""A throwaway PostgreSQL cluster: initdb in a temp dir, loopback port + unix socket, trust auth.

Used by the tests in this folder and by bench/pg_bench.py, so nothing needs a pre-existing
server. initdb refuses to run as root, so as root the cluster runs as the ``postgres`` OS user
(Debian's package creates it) on a temp dir handed over to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

PG_BIN_DIRS = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
# the cluster is disposable: durability settings off make initdb/CREATE DATABASE and commits fast
SERVER_OPTS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 "
               "-c shared_buffers=64MB")


def pg_bin() -> Path | None:
    """The directory holding initdb/pg_ctl, or None when PostgreSQL server binaries are absent."""
    env = os.environ.get("MCINFRA_PG_BIN")
    for d in ([Path(env)] if env else []) + PG_BIN_DIRS:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def missing_reason() -> str | None:
    if pg_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run initdb as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, base: Path | None = None) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError(missing_reason() or "no PostgreSQL")
        self.bin = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="mcinfra-pg-", dir=base))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.sock.mkdir()
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chmod(self.dir, 0o755)
            for p in (self.dir, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.dir)

    def start(self) -> Cluster:
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8")
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} {SERVER_OPTS}"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts,
                  "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def socket_url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{db}?host={self.sock}&port={self.port}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as c:
            c.execute(sql)

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)
