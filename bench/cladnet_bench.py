"""CLADNet figures: plan time for 1,000 peers; deploy + full check on 10/25/50 twin VMs.

    python bench/cladnet_bench.py                  # plan + twin sizes 10,25,50 (twin needs root)
    python bench/cladnet_bench.py --sizes 10 --no-twin

Prints: plan time (recommend + allocate + rules + configs), and per size: deploy wall
time, check wall time (every peer pings every other, 3 echoes), bytes sent to the VMs
by deploy, then the growth exponent k of time ~ N^k fitted by least squares on log-log.
The seed system took 85.9 s to deploy 50 cloud VMs, growing quadratically.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcinfra import cladnet
from mcinfra.cladnet.allocator import Allocator
from mcinfra.cladnet.rules import PeerView, plan_rules
from mcinfra.cladnet.wgconfig import InterfaceSpec, render


def plan_bench(n: int) -> dict[str, float]:
    t0 = time.perf_counter()
    vpc_cidrs = [f"10.{i // 256}.{i % 256}.0/24" for i in range(n // 10)]
    vpc_cidrs += ["172.31.0.0/16", "192.168.0.0/24"]
    rec = cladnet.recommend_address_space(vpc_cidrs, peers=n)
    t1 = time.perf_counter()
    alloc = Allocator(rec.recommended)
    peers = [
        PeerView(f"c{i % 4}/vm-{i}", alloc.allocate(), f"c{i % 4}", f"vpc-{i % 8}",
                 f"198.18.{i // 250}.{i % 250 + 1}", f"10.0.{i // 250}.{i % 250 + 1}", f"{i:043d}=")
        for i in range(n)
    ]
    t2 = time.perf_counter()
    rules = plan_rules(peers, "cost-prioritized")
    t3 = time.perf_counter()
    prefix = rec.recommended.split("/")[1]
    size = 0
    for p in peers:
        spec = InterfaceSpec("cn-bench", f"{p.overlay_ip}/{prefix}", 51820, 1420,
                             "/etc/wireguard/cn-bench.key")
        size += len(render(spec, rules[p.key]))
    t4 = time.perf_counter()
    return {"recommend": t1 - t0, "allocate": t2 - t1, "rules": t3 - t2, "render": t4 - t3, "total": t4 - t0,
            "config_bytes": size, "space": rec.recommended}


def fit_exponent(points: list[tuple[int, float]]) -> float:
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def twin_bench(n: int, concurrency: int) -> dict[str, float]:
    from tests.cladnet.twinlab import twin_lab

    t0 = time.perf_counter()
    with twin_lab((n - n // 2, n // 2), rule_ssh_only=False) as lab:
        made = time.perf_counter() - t0
        rec = cladnet.recommend_for_vms(lab.infra, lab.vms)
        cladnet.create(lab.infra, "bench", rec.recommended, rule_type="cost-prioritized")
        t1 = time.perf_counter()
        report = cladnet.deploy(lab.infra, "bench", lab.vms, ssh_keys=lab.ssh_keys, concurrency=concurrency,
                                mode="userspace")
        t2 = time.perf_counter()
        matrix = cladnet.check(lab.infra, "bench", ssh_keys=lab.ssh_keys, concurrency=concurrency)
        t3 = time.perf_counter()
        again = cladnet.deploy(lab.infra, "bench", [], ssh_keys=lab.ssh_keys, concurrency=concurrency)
        t4 = time.perf_counter()
        return {"vms": n, "lab": made, "deploy": t2 - t1, "check": t3 - t2, "deploy+check": t3 - t1,
                "redeploy": t4 - t3, "bytes": report.bytes_sent,
                "failed": len(report.failed) + len(again.failed),
                "full_mesh": matrix.full_mesh}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan-peers", type=int, default=1000)
    ap.add_argument("--sizes", default="10,25,50")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--no-twin", action="store_true")
    args = ap.parse_args()

    p = plan_bench(args.plan_peers)
    print(f"plan {args.plan_peers} peers: total {p['total']:.3f} s (recommend {p['recommend'] * 1e3:.1f} ms, "
          f"allocate {p['allocate'] * 1e3:.1f} ms, rules {p['rules']:.3f} s, render {p['render']:.3f} s); "
          f"space {p['space']}; {p['config_bytes'] / 1e6:.1f} MB of configs")
    small = plan_bench(args.plan_peers // 4)
    print(f"plan growth exponent ({args.plan_peers // 4} -> {args.plan_peers} peers): "
          f"{fit_exponent([(args.plan_peers // 4, small['total']), (args.plan_peers, p['total'])]):.2f}")
    if args.no_twin:
        return
    from tests.cladnet.twinlab import missing_requirements

    why = missing_requirements()
    if why:
        print(f"twin part skipped: {why}")
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        r = twin_bench(n, args.concurrency)
        rows.append(r)
        print(f"{n:3d} VMs: deploy {r['deploy']:.2f} s, check {r['check']:.2f} s, deploy+check "
              f"{r['deploy+check']:.2f} s, re-deploy {r['redeploy']:.2f} s, {r['bytes']} bytes sent "
              f"({r['bytes'] / n:.0f}/VM), failed {r['failed']}, full mesh {r['full_mesh']} "
              f"(lab set-up {r['lab']:.1f} s)", flush=True)
    if len(rows) > 1:
        for key in ("deploy", "check", "deploy+check", "bytes"):
            k = fit_exponent([(r["vms"], float(r[key])) for r in rows])
            print(f"growth exponent of {key}: {k:.2f}")


if __name__ == "__main__":
    main()
