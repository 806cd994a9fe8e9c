"""SP-Lock across processes and hosts: PostgreSQL session-level advisory locks.

The in-process :class:`~mcinfra.splock.local.SPLock` fronts this backend: threads of one process
queue on the local read/write lock first, and only the thread at the head (the local writer, or
the first of the local readers) takes the server-side lock, on a connection of its own that it
keeps until the last local user releases. A waiting thread therefore never holds a server session.

Lock ids. A key (connection, kind, name) maps to the 64-bit id
``blake2b(json([connection, kind, name]), digest_size=8, person=b"mcinfra-splock")`` read as a
signed big-endian integer (PostgreSQL's ``bigint`` advisory lock space). The ``person`` tag keeps
mcinfra's ids apart from any other hashing of the same text. Two different keys sharing an id
(probability about n^2 / 2^65 for n live keys) are not a safety problem: they simply behave as
one lock, so one holder waits for the other; mutual exclusion is never broken, because each key's
holder owns its lock on a separate session (advisory locks are re-entrant only within a session).
In the even rarer case of a collision closing a wait cycle between multi-key holders,
PostgreSQL's deadlock detector aborts one wait, which surfaces as :class:`LockTimeout`.

Modes: write -> ``pg_advisory_lock`` (exclusive), read -> ``pg_advisory_lock_shared``.
Timeouts use the server's ``lock_timeout`` on the blocking call (one round trip when the lock is
free); a wait that runs out raises :class:`LockTimeout`. When a worker dies its sessions close and
the server releases everything they held; TCP keepalives bound how long a dead *host* keeps them.
A lost server connection raises :class:`StoreError`; an idle session that died with a server
restart is replaced transparently (nothing can be held on a dead session).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcinfra.core.errors import LockTimeout, StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from mcinfra.splock.local import LockInfo, LockKey

log = logging.getLogger("mcinfra")

APP_PREFIX = "mcinfra-splock"
#: idle lock sessions kept per process for reuse (more are opened on demand and closed after use)
MAX_IDLE = 32
_KEY_RE = re.compile(r"/\* mcinfra-splock (\{.*\}) \*/", re.S)


def lock_id(key: LockKey) -> int:
    """The signed 64-bit advisory lock id of a key (see the module docstring)."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    digest = hashlib.blake2b(raw, digest_size=8, person=b"mcinfra-splock").digest()
    return int.from_bytes(digest, "big", signed=True)


def _comment(key: LockKey, holder: str) -> str:
    """A SQL comment naming the key and holder, so other processes can read it from
    pg_stat_activity. JSON with '/' escaped can never close (or nest) the comment."""
    text = json.dumps({"key": list(key), "holder": holder}, ensure_ascii=True).replace("/", "\\/")
    return f"/* {APP_PREFIX} {text} */"


def conninfo(url: URL) -> dict[str, Any]:
    """libpq connection keywords from a SQLAlchemy URL (host may be a unix socket dir in ?host=)."""
    args: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    args.update({k: v for k, v in url.query.items() if isinstance(v, str)})
    return args


@dataclass
class Held:
    """A server-side lock owned by one dedicated session."""

    key: LockKey
    write: bool
    conn: Any
    id: int


class PostgresLocks:
    """Backend for :class:`SPLock` (``SPLock(backend=PostgresLocks(url))``)."""

    def __init__(self, url: URL, *, connect_timeout: int = 10) -> None:
        import psycopg  # the 'postgres' extra; imported only when this backend is used

        self._psycopg = psycopg
        self._args = {
            "autocommit": True,
            "application_name": f"{APP_PREFIX} {socket.gethostname()}:{os.getpid()}"[:63],
            "connect_timeout": connect_timeout,
            # client side: notice a dead server; server side (TCP only): drop the sessions, and so
            # the locks, of a host that died without closing them after ~10+3*5 s of silence
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
        }
        url_args = conninfo(url)  # what the URL says wins over the defaults above
        server_opts = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
        url_args["options"] = f"{server_opts} {url_args.get('options', '')}".strip()
        app = self._args["application_name"]
        self._args.update(url_args)
        # info() finds lock sessions by this name, and sessions must not run in transactions
        self._args.update(autocommit=True, application_name=app)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._where = url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"PostgresLocks({self._where!r})"

    # ------------------------------------------------------------------ sessions
    def _session(self, fresh: bool = False) -> tuple[Any, bool]:
        """A session for one lock, and whether it is a reused idle one (which may have died
        with a server restart without the client knowing)."""
        with self._lock:
            if os.getpid() != self._pid:  # a forked child must not share its parent's sessions
                self._idle, self._pid = [], os.getpid()
                self._args["application_name"] = f"{APP_PREFIX} {socket.gethostname()}:{self._pid}"[:63]
            if fresh:
                stale, self._idle = self._idle, []
                for conn in stale:
                    conn.close()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn, True
        try:
            return self._psycopg.connect(**self._args), False
        except self._psycopg.Error as exc:
            raise StoreError(f"lock server {self._where} unreachable: {exc}") from exc

    def _put_back(self, conn: Any) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE and not conn.closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # ------------------------------------------------------------------ locks
    def acquire(self, key: LockKey, write: bool, timeout: float | None) -> Held:
        """Take the server-side lock of ``key`` on a session of its own; LockTimeout when
        ``timeout`` seconds pass first (None: wait as long as it takes)."""
        errors = self._psycopg.errors
        lid = lock_id(key)
        fn = "pg_advisory_lock" if write else "pg_advisory_lock_shared"
        holder = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
        ms = None if timeout is None else min(int(timeout * 1000), 2**31 - 1)  # lock_timeout is an int
        if ms is not None and ms < 1:
            sql = f"SELECT pg_try_{fn[3:]}({lid}) {_comment(key, holder)}"
        else:
            # lock_timeout 0 = wait forever; SET and the lock share one round trip
            sql = f"SET lock_timeout = {ms or 0}; SELECT {fn}({lid}) {_comment(key, holder)}"
        mode = "write" if write else "read"
        conn, reused = self._session()
        try:
            try:
                cur = conn.execute(sql)
            except self._psycopg.OperationalError:
                if not (reused and conn.broken):
                    raise
                # an idle session from before a server restart: nothing can be held on a dead
                # session, so retry once on a new one after dropping every other idle one
                conn.close()
                conn, reused = self._session(fresh=True)
                cur = conn.execute(sql)
            if ms is not None and ms < 1:
                got = bool(cur.fetchone()[0])
                if not got:
                    raise LockTimeout(f"timed out after {timeout}s waiting for a {mode} lock on {'/'.join(key)}")
        except errors.LockNotAvailable:
            self._put_back(conn)
            raise LockTimeout(f"timed out after {timeout}s waiting for a {mode} lock on {'/'.join(key)} "
                              f"(held by another session)") from None
        except errors.DeadlockDetected:
            self._put_back(conn)
            raise LockTimeout(f"lock wait on {'/'.join(key)} aborted by PostgreSQL's deadlock detector") from None
        except LockTimeout:
            self._put_back(conn)
            raise
        except self._psycopg.Error as exc:
            conn.close()
            raise StoreError(f"lock server {self._where} failed taking {'/'.join(key)}: {exc}") from exc
        except BaseException:
            conn.close()  # interrupted mid-wait: closing the session gives back whatever it got
            raise
        return Held(key, write, conn, lid)

    def release(self, held: Held) -> None:
        fn = "pg_advisory_unlock" if held.write else "pg_advisory_unlock_shared"
        try:
            ok = held.conn.execute(f"SELECT {fn}({held.id})").fetchone()[0]
        except self._psycopg.Error as exc:
            # the session died while held: the server dropped the lock with it, so for some span
            # the key may not have been exclusive. Say so loudly; there is nothing left to release.
            log.error("SP-Lock session for %s was lost while held (%s); mutual exclusion was not "
                      "guaranteed after that point", "/".join(held.key), exc)
            held.conn.close()
            return
        if not ok:
            log.error("SP-Lock %s was not held by its session at release", "/".join(held.key))
        self._put_back(held.conn)

    # ------------------------------------------------------------------ introspection
    def info(self, local: list[LockInfo]) -> list[LockInfo]:
        """Every mcinfra advisory lock on the server (all processes and hosts), with the
        holders and waiters; threads still queued inside this process are added as waiters."""
        from mcinfra.splock.local import LockInfo

        conn, _ = self._session()
        try:
            rows = conn.execute(
                "SELECT l.classid, l.objid, l.mode, l.granted, l.pid, a.query "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND a.application_name LIKE %s "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (f"{APP_PREFIX}%",),
            ).fetchall()
        except self._psycopg.Error as exc:
            conn.close()
            raise StoreError(f"lock server {self._where} failed listing locks: {exc}") from exc
        self._put_back(conn)
        by_id: dict[int, dict[str, Any]] = {}
        for classid, objid, mode, granted, pid, query in rows:
            lid = int.from_bytes(((int(classid) << 32) | int(objid)).to_bytes(8, "big"), "big", signed=True)
            e = by_id.setdefault(lid, {"key": None, "mode": None, "holders": [], "waiters": 0, "n": 0})
            e["n"] += 1
            m = _KEY_RE.search(query or "")
            meta = json.loads(m.group(1)) if m else {}
            if meta and lock_id(tuple(meta["key"])) == lid:  # type: ignore[arg-type]
                e["key"] = e["key"] or tuple(meta["key"])
            if granted:
                e["mode"] = "write" if mode == "ExclusiveLock" else "read"
                e["holders"].append(meta.get("holder") or f"pid {pid}")
            else:
                e["waiters"] += 1
        queued = {lock_id(i.key): i for i in local}
        out = []
        for lid, e in by_id.items():
            mine = queued.get(lid)
            key = e["key"] or (mine.key if mine else ("?", "advisory", str(lid)))
            waiters = e["waiters"] + (mine.waiters if mine else 0)
            out.append(LockInfo(key, e["mode"], sorted(e["holders"]), waiters, e["n"]))
        for lid, i in queued.items():
            if lid not in by_id and i.waiters:  # queued here while the head is still connecting
                out.append(LockInfo(i.key, None, [], i.waiters, i.refcount))
        return sorted(out, key=lambda i: i.key)
