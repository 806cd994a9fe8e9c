"""Twin benchmark: time to start N VMs (N = 10, 50) and memory per VM.

Run as root: ``python bench/twin_bench.py [--sizes 10 50] [--workers 8]``. Each size gets a
fresh twin region (temp state dir) with one VPC, one SG and one key pair; VMs are started
through the driver's handlers by a thread pool, then the RSS and PSS of each VM's processes
(its sshd) are summed from /proc, and the region is cleaned up (timed too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    KeyPairReq,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMReq,
    VPCReq,
)


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(n: int, workers: int) -> dict[str, float]:
    from mcinfra.drivers.twin import machine, netns
    from mcinfra.drivers.twin.cleanup import cleanup_region
    from mcinfra.drivers.twin.driver import TwinDriver

    region = f"bench-{uuid.uuid4().hex[:6]}"
    state_dir = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    conn = TwinDriver().connect(
        SessionInfo(name="bench", provider="twin", region=region, options={"state_dir": str(state_dir)})
    )
    try:
        vpc = conn.vpcs().create(
            VPCReq(name="vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.0.0/20")])
        )
        sg = conn.security_groups().create(
            SecurityGroupReq(
                name="sg",
                vpc=vpc.iid.system_id,
                rules=[
                    DEFAULT_OUTBOUND_RULE,
                    SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22),
                ],
            )
        )
        key = conn.keypairs().create(KeyPairReq(name="key"))
        vms = conn.vms()

        def start(i: int) -> float:
            t0 = time.perf_counter()
            vms.start(
                VMReq(
                    name=f"vm-{i}",
                    image="ubuntu-22.04",
                    spec="twin.nano",
                    vpc=vpc.iid.system_id,
                    subnet=vpc.subnets[0].iid.system_id,
                    security_groups=[sg.iid.system_id],
                    keypair=key.iid.system_id,
                )
            )
            return time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            each = list(ex.map(start, range(n)))
        total = time.perf_counter() - t0
        infos = vms.list()
        rss = [machine.rss_kib({"ns": v.extra["namespace"]}) for v in infos]
        pss = [sum(pss_kib(p) for p in netns.cgroup_pids(v.extra["namespace"])) for v in infos]
        t1 = time.perf_counter()
        cleanup_region(region, state_dir)
        cleanup = time.perf_counter() - t1
        return {
            "n": n,
            "total_s": total,
            "per_vm_s": total / n,
            "start_median_s": statistics.median(each),
            "start_max_s": max(each),
            "rss_kib_per_vm": statistics.mean(rss),
            "pss_kib_per_vm": statistics.mean(pss),
            "cleanup_s": cleanup,
        }
    finally:
        cleanup_region(region, state_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    from mcinfra.drivers.twin.netns import unavailable

    reason = unavailable()
    if reason:
        sys.exit(f"twin bench skipped: {reason}")
    print(f"twin bench: {args.workers} concurrent starts")
    header = "     N  total s  s/VM   median start s  max start s  RSS KiB/VM  PSS KiB/VM  cleanup s"
    print(header)
    for n in args.sizes:
        r = run(n, args.workers)
        print(
            f"{r['n']:6d}  {r['total_s']:7.2f}  {r['per_vm_s']:5.3f}  {r['start_median_s']:14.3f}  "
            f"{r['start_max_s']:11.3f}  {r['rss_kib_per_vm']:10.0f}  {r['pss_kib_per_vm']:10.0f}  {r['cleanup_s']:9.2f}"
        )


if __name__ == "__main__":
    main()
