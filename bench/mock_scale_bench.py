"""Mock cloud at scale: per-call cost of creates as one region grows to N resources (default 10,000).

The issue's target is "10,000 resources in one mock region without slowdown": the printed ratio
(cost of the last 500 creates / cost of the first 500) should stay near 1.

    python bench/mock_scale_bench.py [--n 10000]
"""

from __future__ import annotations

import argparse
import time

import mcinfra
from mcinfra.core.keys import generate_ssh_keypair
from mcinfra.core.models import KeyPairReq, SubnetReq, VMReq
from mcinfra.drivers.mock import reset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    reset("mercury")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.regions.add("r", provider="mock", region="mercury")
        infra.connections.add("c", provider="mock", region="r")
        cloud = infra.connect("c")
        cloud.vpcs.create("vpc", cidr="10.0.0.0/8", subnets=[SubnetReq(name="sn", cidr="10.0.0.0/12")])
        cloud.security_groups.create("sg", vpc="vpc")
        key = cloud.keypairs.create("key")
        vpc, sg = cloud.vpcs.get("vpc"), cloud.security_groups.get("sg")
        keys, vms = cloud.handlers.keypair, cloud.handlers.vm
        public = generate_ssh_keypair()[1]
        batch = 500
        for label, make in (
            ("key pairs", lambda i: keys.create(KeyPairReq(name=f"k{i}", public_key=public))),
            ("VMs", lambda i: vms.start(VMReq(name=f"vm{i}", image="debian-12", spec="t2.micro", vpc=vpc.iid.system_id,
                                             subnet=vpc.subnets[0].iid.system_id, security_groups=[sg.iid.system_id],
                                             keypair=key.iid.system_id))),
        ):
            costs = []
            for start in range(0, args.n, batch):
                t = time.perf_counter()
                for i in range(start, start + batch):
                    make(i)
                costs.append((time.perf_counter() - t) / batch)
            t = time.perf_counter()
            listed = len((keys if label == "key pairs" else vms).list())
            list_s = time.perf_counter() - t
            print(f"{args.n} {label} in one mock region: first {batch} {costs[0] * 1e6:.0f} us/create, "
                  f"last {batch} {costs[-1] * 1e6:.0f} us/create (ratio {costs[-1] / costs[0]:.2f}); "
                  f"list of {listed}: {list_s * 1e3:.0f} ms")
    reset("mercury")


if __name__ == "__main__":
    main()
