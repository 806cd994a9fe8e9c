"""The read cache (issue 17 item 3): the same reads with and without it, in one run, on the mock
at a cloud latency.

1. ``--reads`` vm.status reads round-robin over ``--vms`` VMs, one thread (TTL 5 s);
2. ``--threads`` threads asking vms.statuses at once, ``--rounds`` times, the cache emptied
   before each round (single-flight: identical misses share one cloud call);
3. the cost of a hit against a cloud call at zero latency (deep copy of the answer included).

    PYTHONPATH=. python bench/cache_bench.py [--latency 0.05] [--reads 200] [--vms 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable

import mcinfra
from mcinfra import SubnetReq
from mcinfra.drivers.mock import reset

CLOUD = "cache-bench"


def calls(infra: mcinfra.Infra, connection: str, operation: str) -> int:
    return len(infra.history(connection=connection, operation=operation, limit=10**9))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--reads", type=int, default=200)
    ap.add_argument("--vms", type=int, default=10)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hits", type=int, default=5000)
    args = ap.parse_args()
    reset("venus", cloud_id=CLOUD)
    opts = {"cloud_id": CLOUD}
    with tempfile.TemporaryDirectory() as d, mcinfra.Infra(f"sqlite:///{d}/bench.db") as infra:
        infra.regions.add("venus", provider="mock", region="venus")
        infra.connections.add("fast", provider="mock", region="venus", options=opts)
        for name in ("plain", "cached"):
            infra.connections.add(name, provider="mock", region="venus", options={**opts, "latency": args.latency})
        setup = infra.connect("fast")
        setup.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
        setup.security_groups.create("sg", vpc="vpc")
        setup.keypairs.create("key")
        sids = []
        for i in range(args.vms):
            vm = setup.vms.start(f"vm-{i}", image="ubuntu-22.04", spec="t2.micro", vpc="vpc", subnet="sn",
                                 security_groups=["sg"], keypair="key")
            sids.append(vm.iid.system_id)
        for name in ("plain", "cached"):  # the same VMs under each connection's names
            for i, sid in enumerate(sids):
                infra.connect(name).vms.register(f"vm-{i}", sid)
        plain = infra.connect("plain")
        cached = infra.connect("cached", cache={"vm.status": 5, "vm.statuses": 5})
        print(f"mock at {args.latency * 1000:.0f} ms per call; {args.vms} VMs")

        # 1. sequential status polling
        def poll(cloud: mcinfra.Connection) -> Callable[[], None]:
            return lambda: [cloud.vms.status(f"vm-{i % args.vms}") for i in range(args.reads)]

        before = {n: calls(infra, n, "vm.status") for n in ("plain", "cached")}
        t_plain, t_cached = timed(poll(plain)), timed(poll(cached))
        made = {n: calls(infra, n, "vm.status") - before[n] for n in ("plain", "cached")}
        print(f"1. {args.reads} vm.status reads, one thread, TTL 5 s")
        print(f"   without cache: {t_plain:6.2f} s, {made['plain']} cloud calls")
        print(f"   with cache   : {t_cached:6.2f} s, {made['cached']} cloud calls "
              f"({made['plain'] - made['cached']} saved)")
        print(f"   speed-up: {t_plain / t_cached:.1f}x")

        # 2. a burst of identical reads from many threads, on a cold cache
        def burst(cloud: mcinfra.Connection) -> Callable[[], None]:
            def run() -> None:
                for _ in range(args.rounds):
                    infra.cache.invalidate(cloud.name)
                    threads = [threading.Thread(target=cloud.vms.statuses) for _ in range(args.threads)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
            return run

        before = {n: calls(infra, n, "vm.statuses") for n in ("plain", "cached")}
        t_plain, t_cached = timed(burst(plain)), timed(burst(cached))
        made = {n: calls(infra, n, "vm.statuses") - before[n] for n in ("plain", "cached")}
        print(f"2. {args.rounds} rounds of {args.threads} threads asking vm.statuses at once, cold cache each round")
        print(f"   without cache: {t_plain:6.2f} s, {made['plain']} cloud calls")
        print(f"   with cache   : {t_cached:6.2f} s, {made['cached']} cloud calls "
              f"(coalesced: {infra.cache.stats('cached').coalesced})")
        print(f"   speed-up: {t_plain / t_cached:.1f}x")

        # 3. what a hit costs, against a call to the mock at zero latency (history row included)
        setup.vms.get("vm-0")
        t_call = timed(lambda: [setup.vms.get("vm-0") for _ in range(args.hits)])
        infra.connect("fast", cache={"vm.get": 3600})
        setup.vms.get("vm-0")
        t_hit = timed(lambda: [setup.vms.get("vm-0") for _ in range(args.hits)])
        print(f"3. vms.get at zero latency, {args.hits} times: mock call {t_call / args.hits * 1e6:5.0f} us, "
              f"cache hit {t_hit / args.hits * 1e6:5.0f} us (store row look-up and a deep copy included)")
    reset("venus", cloud_id=CLOUD)


if __name__ == "__main__":
    main()
