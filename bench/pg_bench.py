"""Several worker processes on one store: PostgreSQL (with PostgreSQL SP-Locks) beside SQLite.

    python bench/pg_bench.py [--url postgresql+psycopg://...] [--procs 1,4,8]

Without --url a throwaway PostgreSQL cluster is started (tests/pg/cluster.py). Two benchmarks,
each run with 1, 4 and 8 worker processes (spawned, so every one opens its own Infra):

* SP-Lock: every process creates distinct key pairs from 4 threads through a mock cloud with
  ``--latency`` seconds per call, once with SP-Lock (one lock per name) and once with the coarse
  lock (one lock per kind, as Spider had before SP-Lock). On PostgreSQL the coarse lock is shared
  by all processes, so it serialises them; SQLite has only in-process locks, so its coarse lock
  serialises the threads of one process but not the processes.
* SP-Lock round trip: taking and releasing a write lock on distinct keys (PostgreSQL advisory
  lock: two round trips; local: no I/O).
* overhead: create/get/delete cycles of VPCs on a mock cloud with no latency, one thread per
  process: what the store and the locks cost per operation. "postgres, local locks" isolates the
  advisory-lock round trips from the store's.

Figures are ops/s over all processes, from a common start (every process has opened its Infra)
to the last finish.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mcinfra  # noqa: E402

THREADS = 4


def _ready(out: mp.Queue, go: Any) -> None:
    """Tell the parent this process has opened its Infra, and wait for the common start."""
    out.put("ready")
    go.wait()


def splock_worker(url: str, locks: str | None, coarse: bool, proc: int, per_thread: int, go: Any,
                  out: mp.Queue) -> None:
    with mcinfra.Infra(url, coarse_locks=coarse, locks=locks) as infra:
        cloud = infra.connect("lat")
        errors: list[BaseException] = []

        def run(t: int) -> None:
            try:
                for i in range(per_thread):
                    cloud.keypairs.create(f"p{proc}-t{t}-k{i}")
            except BaseException as exc:
                errors.append(exc)

        _ready(out, go)
        threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        out.put((time.time(), THREADS * per_thread, repr(errors[0]) if errors else None))


def hold_worker(url: str, locks: str | None, coarse: bool, proc: int, n: int, go: Any, out: mp.Queue) -> None:
    with mcinfra.Infra(url, locks=locks) as infra:
        _ready(out, go)
        for i in range(n):
            with infra.locks.hold(writes=[("bench", "vpc", f"p{proc}-v{i}")]):
                pass
        out.put((time.time(), n, None))


def overhead_worker(url: str, locks: str | None, coarse: bool, proc: int, cycles: int, go: Any,
                    out: mp.Queue) -> None:
    with mcinfra.Infra(url, locks=locks) as infra:
        cloud = infra.connect("fast")
        _ready(out, go)
        err = None
        try:
            for i in range(cycles):
                name = f"p{proc}-v{i}"
                cloud.vpcs.create(name, cidr="10.0.0.0/16")
                cloud.vpcs.get(name)
                cloud.vpcs.delete(name)
        except mcinfra.McInfraError as exc:
            err = repr(exc)
        out.put((time.time(), 3 * cycles, err))


def run(worker: Callable[..., None], url: str, locks: str | None, coarse: bool, procs: int, n: int) -> float:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    go = ctx.Event()
    ps = [ctx.Process(target=worker, args=(url, locks, coarse, p, n, go, out)) for p in range(procs)]
    for p in ps:
        p.start()
    for _ in ps:
        assert out.get(timeout=900) == "ready"
    t0 = time.time()
    go.set()
    results = [out.get(timeout=900) for _ in ps]
    for p in ps:
        p.join()
    errors = [e for _, _, e in results if e]
    if errors:
        raise SystemExit(f"a worker failed: {errors[0]}")
    return sum(ops for _, ops, _ in results) / (max(end for end, _, _ in results) - t0)


def prepare(url: str, latency: float) -> None:
    with mcinfra.Infra(url, locks="local") as infra:
        from mcinfra.store.tables import Base

        with infra.store.session() as s:
            for table in reversed(Base.metadata.sorted_tables):
                s.execute(table.delete())
        infra.connections.add("lat", provider="mock", options={"latency": latency, "seed": 1})
        infra.connections.add("fast", provider="mock", options={"seed": 1})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a PostgreSQL URL (default: start a throwaway cluster)")
    ap.add_argument("--procs", default="1,4,8")
    ap.add_argument("--latency", type=float, default=0.02, help="mock seconds per call in the SP-Lock bench")
    ap.add_argument("--creates", type=int, default=10, help="creates per thread in the SP-Lock bench")
    ap.add_argument("--cycles", type=int, default=100, help="create/get/delete cycles per process")
    ap.add_argument("--bench", choices=("all", "splock", "overhead"), default="all")
    args = ap.parse_args()
    procs = [int(p) for p in args.procs.split(",")]
    cluster = None
    tmp = Path(tempfile.mkdtemp(prefix="mcinfra-bench-"))
    os.environ["MCINFRA_HOME"] = str(tmp / "home")
    pg_url = args.url
    if pg_url is None:
        from tests.pg.cluster import Cluster, missing_reason

        reason = missing_reason()
        if reason:
            raise SystemExit(reason)
        cluster = Cluster().start()
        pg_url = cluster.new_database()
    sqlite_url = f"sqlite:///{tmp / 'bench.db'}"
    print(f"cpus={os.cpu_count()} threads/process (SP-Lock bench)={THREADS} mock latency={args.latency}s")
    try:
        if args.bench in ("all", "splock"):
            splock_bench(args, procs, pg_url, sqlite_url)
        if args.bench in ("all", "overhead"):
            overhead_bench(args, procs, pg_url, sqlite_url)
    finally:
        if cluster is not None:
            cluster.destroy()


def splock_bench(args: argparse.Namespace, procs: list[int], pg_url: str, sqlite_url: str) -> None:
    print("\nSP-Lock round trip: write lock take+release/s (distinct keys, 1 thread per process)")
    print(f"{'store':<10} {'locks':<14}" + "".join(f"{p:>4} proc" for p in procs))
    for label, url, locks in (("postgres", pg_url, "postgres"), ("sqlite", sqlite_url, "local")):
        figures = [run(hold_worker, url, locks, False, p, 20 * args.cycles) for p in procs]
        print(f"{label:<10} {locks:<14}" + "".join(f"{f:>9.1f}" for f in figures), flush=True)

    print("\nSP-Lock bench: key pair creates/s (distinct names)")
    print(f"{'store':<10} {'locks':<14}" + "".join(f"{p:>4} proc" for p in procs))
    for label, url in (("postgres", pg_url), ("sqlite", sqlite_url)):
        for coarse in (False, True):
            figures = []
            for p in procs:
                prepare(url, args.latency)
                figures.append(run(splock_worker, url, None, coarse, p, args.creates))
            kind = "coarse (kind)" if coarse else "SP-Lock (name)"
            print(f"{label:<10} {kind:<14}" + "".join(f"{f:>9.1f}" for f in figures), flush=True)


def overhead_bench(args: argparse.Namespace, procs: list[int], pg_url: str, sqlite_url: str) -> None:
    print("\noverhead bench: create/get/delete ops/s, mock without latency, 1 thread per process")
    print(f"{'store':<10} {'locks':<14}" + "".join(f"{p:>4} proc" for p in procs))
    for label, url, locks in (("postgres", pg_url, "postgres"), ("postgres", pg_url, "local"),
                              ("sqlite", sqlite_url, "local")):
        figures = []
        for p in procs:
            prepare(url, args.latency)
            figures.append(run(overhead_worker, url, locks, False, p, args.cycles))
        print(f"{label:<10} {locks:<14}" + "".join(f"{f:>9.1f}" for f in figures), flush=True)


if __name__ == "__main__":
    main()
