"""Core overhead: create/get/delete through the managers against the same store work in raw sqlite3.

One process, SQLite file store (WAL), mock driver at zero latency, security groups in one VPC.
Each round runs the managers on one database and then, on a second database of the same schema
and pragmas (WAL, synchronous=NORMAL, busy_timeout), the store work mcinfra does for the same
calls written by hand with ``sqlite3``; rounds alternate, and the best round of each is printed
with the ratio mcinfra / raw (target, issue 17: <= 3x).

The raw work per call is what ``mcinfra/store/db.py`` runs for it:

- create: read the VPC row; write transaction 1: insert the pending row + its reference to the
  VPC; write transaction 2: finish the row (CSP id, state 'ready') + the call's history row.
- get: read the row; one history row, buffered (written ``HISTORY_FLUSH_AT`` at a time, or with
  the next write transaction).
- delete: read the row; read its referrers; write transaction 1: read the row by id + mark it
  'deleting'; write transaction 2: delete the row + its references + the call's history row.

(``Store.record_call``, ``Store._logged_write``: a call's record is buffered and written with
the next row change, or ``HISTORY_FLUSH_AT`` at a time.)

    python bench/overhead_bench.py [--n 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mcinfra
from mcinfra.drivers.mock import reset
from mcinfra.store.db import HISTORY_FLUSH_AT

OPS = ("create", "get", "delete")


def run_mcinfra(infra: mcinfra.Infra, n: int) -> dict[str, float]:
    """Seconds per op for n creates, gets and deletes through the managers."""
    sgs = infra.connect("bench").security_groups
    times = {}
    for op, fn in (("create", lambda i: sgs.create(f"sg-{i}", vpc="vpc")),
                   ("get", lambda i: sgs.get(f"sg-{i}")),
                   ("delete", lambda i: sgs.delete(f"sg-{i}"))):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        times[op] = (time.perf_counter() - start) / n
    infra.store.flush_history()
    return times


def _ts() -> str:
    # how SQLAlchemy's DateTime stores a value in SQLite
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class RawStore:
    """The store work of the managers' create/get/delete, by hand on a DBAPI connection."""

    def __init__(self, path: Path) -> None:
        # the schema comes from mcinfra itself (same tables, indexes, unique constraints)
        mcinfra.Infra(f"sqlite:///{path}").close()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=60000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.calls: list[tuple[Any, ...]] = []
        self.write([("INSERT INTO iids (connection, kind, owner, name_id, system_id, csp_name, state, zone, "
                     "created_at, extra) VALUES ('bench', 'vpc', '', 'vpc', 'vpc-1', 'vpc', 'ready', NULL, ?, '{}')",
                     (_ts(),))])

    INSERT_CALL = ("INSERT INTO call_history (at, connection, provider, operation, kind, name, duration_ms, ok, "
                   "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")

    def write(self, statements: list[tuple[str, tuple[Any, ...]]], *, history: bool = False) -> list[int]:
        """One write transaction (``history``: with the buffered history rows)."""
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        ids = []
        for sql, params in statements:
            cur.execute(sql, params)
            ids.append(cur.lastrowid)
        if history and self.calls:
            rows, self.calls = self.calls, []
            cur.executemany(self.INSERT_CALL, rows)
        cur.execute("COMMIT")
        return ids

    def read(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self.db.execute(sql, params).fetchall()

    def history(self, operation: str, name: str) -> None:
        self.calls.append((_ts(), "bench", "mock", operation, "security_group", name, 0.01, 1, None))
        if len(self.calls) >= HISTORY_FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        rows, self.calls = self.calls, []
        if rows:
            cur = self.db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(self.INSERT_CALL, rows)
            cur.execute("COMMIT")

    GET = ("SELECT id, connection, kind, owner, name_id, system_id, csp_name, state, zone, created_at, extra "
           "FROM iids WHERE connection = ? AND kind = ? AND owner = ? AND name_id = ?")

    def create(self, i: int) -> None:
        vpc = self.read(self.GET, ("bench", "vpc", "", "vpc"))[0]
        name = f"sg-{i}"
        extra = json.dumps({"vpc": "vpc", "ids": {vpc[5]: "vpc"}})
        (row_id, _) = self.write([
            ("INSERT INTO iids (connection, kind, owner, name_id, system_id, csp_name, state, zone, created_at, "
             "extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             ("bench", "security_group", "", name, "", name, "pending", None, _ts(), extra)),
            ("INSERT INTO iid_refs (connection, from_kind, from_name, to_kind, to_name) VALUES (?, ?, ?, ?, ?)",
             ("bench", "security_group", name, "vpc", "vpc")),
        ])
        self.history("security_group.create", name)  # the CSP call's record, written with the finish
        self.write([("UPDATE iids SET system_id = ?, state = 'ready', zone = coalesce(?, iids.zone), extra = ? "
                     "WHERE iids.id = ?", (f"sg-{i:016x}", None, extra, row_id))], history=True)

    def get(self, i: int) -> None:
        row = self.read(self.GET, ("bench", "security_group", "", f"sg-{i}"))[0]
        json.loads(row[10])
        self.history("security_group.get", row[4])

    def delete(self, i: int) -> None:
        name = f"sg-{i}"
        row = self.read(self.GET, ("bench", "security_group", "", name))[0]
        self.read("SELECT from_kind, from_name FROM iid_refs WHERE connection = ? AND to_kind = ? AND to_name = ?",
                  ("bench", "security_group", name))
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.GET.split(" WHERE ")[0] + " WHERE id = ?", (row[0],)).fetchone()
        cur.execute("UPDATE iids SET state = ? WHERE iids.id = ?", ("deleting", row[0]))
        cur.execute("COMMIT")
        self.history("security_group.delete", name)  # the CSP call's record, written with the drop
        self.write([("DELETE FROM iids WHERE iids.id = ?", (row[0],)),
                    ("DELETE FROM iid_refs WHERE connection = ? AND from_kind = ? AND from_name = ?",
                     ("bench", "security_group", name))], history=True)


def run_raw(raw: RawStore, n: int) -> dict[str, float]:
    times = {}
    for op in OPS:
        fn: Callable[[int], None] = getattr(raw, op)
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        times[op] = (time.perf_counter() - start) / n
    raw.flush()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each side is shown")
    args = ap.parse_args()
    reset("venus")
    best: dict[str, dict[str, float]] = {"mcinfra": {}, "raw": {}}
    history_rows = 0
    with tempfile.TemporaryDirectory() as d, mcinfra.Infra(f"sqlite:///{d}/bench.db") as infra:
        infra.connections.add("bench", provider="mock")
        infra.connect("bench").vpcs.create("vpc", cidr="10.0.0.0/16")
        raw = RawStore(Path(d) / "raw.db")
        for _ in range(args.rounds):
            for side, times in (("mcinfra", run_mcinfra(infra, args.n)), ("raw", run_raw(raw, args.n))):
                for op, t in times.items():
                    best[side][op] = min(best[side].get(op, t), t)
        history_rows = len(infra.history(limit=10 * args.n * args.rounds))
        raw.db.close()
    print(f"{args.n} each of create/get/delete on security groups, SQLite file store (WAL), mock at 0 latency;")
    print(f"best of {args.rounds} alternating rounds; raw = the same store work by hand with sqlite3")
    print(f"  {'':8}{'mcinfra':>16}{'raw sqlite3':>16}{'ratio':>8}")
    for op in OPS:
        m, r = best["mcinfra"][op], best["raw"][op]
        print(f"  {op:8}{m * 1e6:9.0f} us/op{r * 1e6:9.0f} us/op{m / r:7.2f}x")
    m, r = sum(best["mcinfra"].values()), sum(best["raw"].values())
    print(f"  {'overall':8}{3 / m:8.0f} ops/s{3 / r:10.0f} ops/s{m / r:7.2f}x")
    print(f"  history rows recorded: {history_rows}")


if __name__ == "__main__":
    main()
