"""Core overhead: create/get/delete ops/s through the managers, one process, SQLite file store,
mock driver at zero latency. Target (issue 2): >= 2,000 ops/s.

    python bench/overhead_bench.py [--n 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import mcinfra
from mcinfra.drivers.mock import reset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    reset("venus")
    with tempfile.TemporaryDirectory() as d, mcinfra.Infra(f"sqlite:///{d}/bench.db") as infra:
        infra.connections.add("bench", provider="mock")
        cloud = infra.connect("bench")
        cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
        sgs = cloud.security_groups
        times = {}
        for op, fn in (("create", lambda i: sgs.create(f"sg-{i}", vpc="vpc")),
                       ("get", lambda i: sgs.get(f"sg-{i}")),
                       ("delete", lambda i: sgs.delete(f"sg-{i}"))):
            start = time.perf_counter()
            for i in range(args.n):
                fn(i)
            times[op] = time.perf_counter() - start
        total = sum(times.values())
        print(f"{args.n} each of create/get/delete on security groups, SQLite file store (WAL), mock at 0 latency")
        for op, t in times.items():
            print(f"  {op:7}: {args.n / t:8.0f} ops/s  ({t / args.n * 1e6:6.0f} us/op)")
        print(f"  overall: {3 * args.n / total:8.0f} ops/s")
        print(f"  history rows recorded: {len(infra.history(limit=10 * args.n))}")


if __name__ == "__main__":
    main()
