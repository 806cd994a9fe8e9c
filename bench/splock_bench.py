"""SP-Lock vs a coarse per-kind lock: N concurrent creates of distinct SGs at mock latency L.

Prints the wall time of each mode and their ratio, measured in one run. Targets (issue 2):
SP-Lock wall <= 1.5 x L, and >= 50x faster than the coarse lock.

    python bench/splock_bench.py [--n 100] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import mcinfra
from mcinfra.drivers.mock import reset


def run(coarse: bool, n: int, latency: float, url: str) -> float:
    reset("venus")
    with mcinfra.Infra(url, coarse_locks=coarse) as infra:
        name = f"bench-{'coarse' if coarse else 'splock'}"
        infra.connections.add(name, provider="mock", options={"latency": 0.0})
        setup = infra.connect(name)
        setup.vpcs.create("vpc", cidr="10.0.0.0/16")
        setup.handlers.security_group.behaviour.latency = (latency, latency)  # latency for the measured calls only
        with ThreadPoolExecutor(max_workers=n) as pool:
            # start all n threads first (we time the locks, not spawning): a barrier makes n
            # threads exist at once, where n short sleeps could let a few threads serve them all
            # and leave the timed run waiting for a busy thread
            barrier = threading.Barrier(n)
            list(pool.map(lambda _: barrier.wait(), range(n)))
            start = time.perf_counter()
            list(pool.map(lambda i: setup.security_groups.create(f"sg-{i}", vpc="vpc"), range(n)))
            wall = time.perf_counter() - start
        assert len(setup.security_groups.list_all().mapped) == n
        setup.handlers.security_group.behaviour.latency = (0.0, 0.0)
        setup.destroy_all()
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--latency", type=float, default=0.1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for label, url in (("SQLite file (WAL)", f"sqlite:///{d}/bench.db"), ("SQLite in memory", "sqlite:///:memory:")):
            fine = run(False, args.n, args.latency, url)
            coarse = run(True, args.n, args.latency, url)
            print(f"{args.n} concurrent SG creates, mock latency {args.latency:.3f}s, store: {label}")
            print(f"  SP-Lock : {fine:8.3f} s  ({fine / args.latency:.2f} x latency)")
            print(f"  coarse  : {coarse:8.3f} s  ({coarse / args.latency:.2f} x latency)")
            print(f"  SP-Lock is {coarse / fine:.1f}x faster")


if __name__ == "__main__":
    main()
