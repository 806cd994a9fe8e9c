"""Batch fan-out (issue 17): N VM starts across C mock connections in one ``infra.batch``.

Each connection has its own mock region (the rate-limit bucket is keyed by (provider, region)),
a mock latency L per call and, with ``--rate-limit R``, the connection option ``rate_limit=R``
(calls/s). Printed, measured in one run:
- wall time against the physical limit ``max(L, calls_per_connection / R)`` as a ratio (target
  <= 1.2x); with ``--rate-limit 0`` (no limit) the physical limit is just L, and the bound the
  pool itself sets, ``ceil(calls_per_connection / concurrency) x L``, is printed too;
- the highest call rate any connection sent in any 1-second window, counted by the rate limiter
  as each call is let through (``mcinfra.drivers.ratelimit.rate_limits``), and beside it the same
  from the call history's reply times (send time + L, jittered by scheduling);
- threads used (peak ``threading.active_count()`` minus before, and the batch's pool size), peak
  RSS (``ru_maxrss``) and peak open file descriptors (sampled every 5 ms);
- then the same batch with ``fail_rate`` (default 0.2): every item accounted for (ok + failed =
  N) and, per connection, the store equal to the mock inventory (names and CSP ids).

    PYTHONPATH=. python bench/batch_bench.py [--vms 1000] [--connections 4] [--latency 0.5]
                                             [--rate-limit 50] [--concurrency K] [--fail-rate 0.2]

``--rate-limit 0`` runs without a limit (the physical limit is then just the latency).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import mcinfra
from mcinfra import SubnetReq
from mcinfra.drivers.mock.state import forget
from mcinfra.drivers.ratelimit import rate_limits

REGIONS = ("default", "mercury", "venus", "mars")


class Sampler:
    """Peak threads and open fds of this process, sampled on a thread of its own."""

    def __init__(self, every: float = 0.005) -> None:
        self.every = every
        self.peak_threads = self.peak_fds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_threads = max(self.peak_threads, threading.active_count() - 1)  # not the sampler itself
            self.peak_fds = max(self.peak_fds, len(os.listdir("/proc/self/fd")))
            time.sleep(self.every)

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def max_rate_per_second(times: list[float]) -> int:
    """The most events in any 1-second window [t, t + 1)."""
    times = sorted(times)
    return max((bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times)), default=0)


def setup(infra: mcinfra.Infra, connections: int, rate_limit: float, cloud_id: str) -> list[str]:
    names = []
    for i in range(connections):
        region = REGIONS[i % len(REGIONS)]
        infra.regions.add(f"r{i}", provider="mock", region=region)
        options: dict[str, Any] = {"latency": 0.0, "seed": i, "cloud_id": f"{cloud_id}-{i}"}
        if rate_limit:
            options["rate_limit"] = rate_limit
        infra.connections.add(f"fan-{i}", region=f"r{i}", options=options)
        names.append(f"fan-{i}")
    # the network each VM needs, made without latency (not what is measured)
    net = infra.batch([item for c in names for item in (
        (c, "vpcs.create", {"name": "vpc", "cidr": "10.0.0.0/8",
                            "subnets": [SubnetReq(name="sn", cidr="10.0.0.0/12")]}),
        (c, "security_groups.create", {"name": "sg", "vpc": "vpc"}),
        (c, "keypairs.create", {"name": "key"}))])
    net.raise_for_errors()
    return names


def measure(vms: int, connections: int, latency: float, rate_limit: float, concurrency: int,
            fail_rate: float) -> dict[str, Any]:
    cloud_id = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as d, mcinfra.Infra(f"sqlite:///{d}/bench.db") as infra:
        names = setup(infra, connections, rate_limit, cloud_id)
        for c in names:  # latency and faults for the measured calls only
            behaviour = infra.connect(c).handlers.vm.behaviour
            behaviour.latency, behaviour.fail_rate = (latency, latency), fail_rate
        items = [(names[i % connections], "vms.start",
                  {"name": f"vm-{i}", "image": "ubuntu-22.04", "spec": "t2.micro", "vpc": "vpc", "subnet": "sn",
                   "security_groups": ["sg"], "keypair": "key", "wait": False}) for i in range(vms)]
        threads_before = threading.active_count()
        rate_limits("mock", reset=True)  # the limiter's own count starts with the measured calls
        t0 = datetime.now(UTC)
        with Sampler().running() as sampler:
            start = time.perf_counter()
            result = infra.batch(items, concurrency=concurrency)
            wall = time.perf_counter() - start
        region_of = {REGIONS[i % len(REGIONS)]: c for i, c in enumerate(names)}
        sent = {region_of[b.region]: b.peak_calls_per_second for b in rate_limits("mock") if b.region in region_of}
        rates, calls = {}, {}
        for c in names:
            history = infra.history(connection=c, kind="vm", since=t0, limit=1_000_000)
            history = [h for h in history if not h.operation.endswith(".handler")]
            calls[c] = len(history)
            rates[c] = max_rate_per_second([h.at.timestamp() for h in history])
        mismatches = {}
        for c in names:
            conn = infra.connect(c)
            conn.handlers.vm.behaviour.latency, conn.handlers.vm.behaviour.fail_rate = (0.0, 0.0), 0.0
            rows = {r.name_id: r.system_id for r in infra.store.list(c, "vm")}
            at_csp = {i.system_id for i in conn.handlers.vm.list_iids()}
            ok_here = {i.name for i in result.ok if i.connection == c}
            unsettled = infra.store.unsettled(c)
            if set(rows.values()) != at_csp or set(rows) != ok_here or unsettled:
                mismatches[c] = {"store_only": sorted(set(rows.values()) - at_csp),
                                 "csp_only": sorted(at_csp - set(rows.values())),
                                 "ok_not_stored": sorted(ok_here - set(rows)), "unsettled": len(unsettled)}
        for i in range(connections):
            forget(f"{cloud_id}-{i}")
        per_conn = max(calls.values())
        physical = max(latency, per_conn / rate_limit) if rate_limit else latency
        pool_bound = math.ceil(per_conn / concurrency) * latency
        return {"wall": wall, "physical": physical, "pool_bound": pool_bound, "rates": rates, "sent": sent,
                "calls": calls,
                "counts": result.counts(), "workers": result.workers,
                "threads": sampler.peak_threads - (threads_before - 1), "fds": sampler.peak_fds,
                "mismatches": mismatches, "items": len(result)}


def report(label: str, r: dict[str, Any], rate_limit: float, vms: int) -> None:
    print(f"-- {label}")
    print(f"  wall {r['wall']:.2f} s; physical limit {r['physical']:.2f} s -> {r['wall'] / r['physical']:.2f}x "
          f"(target <= 1.2x)")
    if not rate_limit:
        print(f"  (no rate limit: the pool's own bound ceil(calls/concurrency) x latency = {r['pool_bound']:.2f} s"
              f" -> {r['wall'] / r['pool_bound']:.2f}x)")
    limit = (f"limit {rate_limit:g}/s: {'within' if max(r['sent'].values()) <= rate_limit else 'ABOVE'}"
             if rate_limit else "no limit")
    print(f"  highest calls sent in any 1 s window per connection (at the rate limiter, as the cloud sees them): "
          f"{r['sent']} ({limit}); calls {r['calls']}")
    print(f"  the same from the call history's reply times (+latency, jittered by GIL scheduling): {r['rates']}")
    print(f"  threads: {r['threads']} (pool {r['workers']}); peak open fds {r['fds']}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (process so far)")
    accounted = sum(r["counts"].values())
    print(f"  items: {r['counts']}; accounted for {accounted}/{vms}")
    print(f"  store == mock inventory on every connection: {not r['mismatches']}"
          + (f" {r['mismatches']}" if r["mismatches"] else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=4, choices=range(1, 5))
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--rate-limit", type=float, default=50.0, help="calls/s per connection; 0: no limit option")
    ap.add_argument("--concurrency", type=int, default=0,
                    help="items at once per connection (default: 1.5 x rate x latency with a limit, else 64)")
    ap.add_argument("--fail-rate", type=float, default=0.2)
    args = ap.parse_args()
    concurrency = args.concurrency or (math.ceil(1.5 * args.rate_limit * args.latency) if args.rate_limit else 64)
    print(f"{args.vms} VM starts across {args.connections} mock connections, latency {args.latency}s, "
          f"rate limit {args.rate_limit or 'none'}, concurrency {concurrency}/connection")
    clean = measure(args.vms, args.connections, args.latency, args.rate_limit, concurrency, 0.0)
    report("no faults", clean, args.rate_limit, args.vms)
    faulty = measure(args.vms, args.connections, args.latency, args.rate_limit, concurrency, args.fail_rate)
    report(f"fail_rate={args.fail_rate}", faulty, args.rate_limit, args.vms)


if __name__ == "__main__":
    main()
